#!/usr/bin/env bash
# Runs docker with the given arguments. When it fails for a common reason, adds one plain
# sentence that says what to do, instead of leaving you with Docker's own error alone.
set -uo pipefail

docker=${DOCKER:-docker}
if ! command -v "$docker" >/dev/null 2>&1; then
  echo "error: Docker is not installed: install Docker Engine or Docker Desktop (https://docs.docker.com/get-docker/), or use 'make train-local' to run without it." >&2
  exit 127
fi

if [[ " $* " == *" --gpus "* ]] && ! "$docker" info 2>/dev/null | grep -qi nvidia; then
  echo "error: GPU=1 needs a GPU runtime in Docker, and this Docker has none: install the NVIDIA Container Toolkit and restart Docker, or run without GPU=1." >&2
  exit 1
fi

# Docker's errors and build progress go to stderr: show them as they come, and keep a copy to read.
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
exec 3>&1
"$docker" "$@" 2>&1 >&3 3>&- | tee "$errors" >&2
status=${PIPESTATUS[0]}
((status == 0)) && exit 0

said() { grep -qiE "$1" "$errors"; }
port=$(grep -oE '[0-9.]+:[0-9]+ failed: port is already allocated|:[0-9]+: bind: address already in use' "$errors" | grep -oE ':[0-9]+' | head -1 | tr -d :)
if said 'permission denied.*docker.*sock'; then
  hint="You may not use Docker's socket: add yourself to the docker group (sudo usermod -aG docker \$USER), then log in again."
elif said 'Cannot connect to the Docker daemon|Is the docker daemon running|error during connect|docker.sock: connect'; then
  hint="Docker is not running: start Docker Desktop, or the engine with 'sudo systemctl start docker', then try again."
elif said 'port is already allocated|address already in use'; then
  hint="Port ${port:-of the dashboard} is already in use on this machine: stop what uses it, or choose another port, e.g. 'make dashboard PORT=$((${port:-7860} + 1))'."
elif said 'is already in use by container'; then
  hint="That container is already running: use it, or stop it with 'docker stop <name>' (the name is in the message above)."
elif said 'COPY failed|failed to calculate checksum|failed to compute cache key.*not found'; then
  hint="A file that the Dockerfile copies is not in the build context: check that it exists and that .dockerignore does not exclude it."
elif said 'do not match the hashes|hash mismatch'; then
  hint="A downloaded package does not match its hash in requirements.txt: run 'make lock' to refresh the hashes, or check where your packages come from."
elif said 'No matching distribution|Could not find a version|not found in the package registry|No solution found'; then
  hint="A package in requirements.txt cannot be installed: check its name and version (pip index versions <name>)."
elif said 'buildx component is missing|BuildKit is enabled but'; then
  hint="This docker client cannot do BuildKit builds: install the docker-buildx plugin, or point DOCKER= at a client that has it."
elif said 'pull access denied|failed to resolve source metadata|manifest unknown|dial tcp.*registry'; then
  hint="The base image cannot be pulled: check your network, or build with a local base image, e.g. 'make image BASE_IMAGE=<your mirror>/python:3.11-slim'."
else
  exit "$status"
fi
echo "error: $hint" >&2
exit "$status"
