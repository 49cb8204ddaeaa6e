#!/usr/bin/env bash
# Runs docker with the given arguments. When it fails for a common reason, adds one plain
# sentence that says what to do, below Docker's own error.
set -uo pipefail
export DOCKER_BUILDKIT=1 # builds use RUN --mount
# Docker's errors and build progress go to stderr: show them as they come, and keep a copy to read.
# tee -i outlives a Ctrl-C, to pass on the run's last words.
errors=$(mktemp) && trap 'rm -f "$errors"' EXIT && exec 3>&1
"${DOCKER:-docker}" "$@" 2>&1 >&3 3>&- | tee -i "$errors" >&2
status=${PIPESTATUS[0]}
((status == 0)) && exit 0
# Killed without a word, most often by the kernel for memory: say so rather than end in silence.
if ((status == 137)); then
  echo "error: the run was killed (exit 137): unless you killed it, it ran out of memory:" \
    "raise MEMORY=, or give Docker more." >&2
  exit 137
fi
taken='( failed: port is already allocated|: bind: address already in use)'
port=$(grep -oE ":[0-9]+$taken" "$errors" | grep -oE '[0-9]+' | head -1)
port=${port:-7860}
target=${MAKE_TARGET:-dashboard} # the make target that publishes a port

# Each hint: what Docker says (an extended regular expression), then what to do. The first wins.
hints=(
  'docker.sh: line [0-9]+: .*(command not found|No such file or directory)'
  "Docker is not installed: install Docker Engine or Docker Desktop \
(https://docs.docker.com/get-docker/), or use 'make train-local' to run without it."
  'could not select device driver|unknown or invalid runtime name: nvidia'
  "GPU=1 needs a GPU runtime in Docker, and this Docker has none: install the NVIDIA \
Container Toolkit and restart Docker, or run without GPU=1."
  'permission denied.*docker.*sock'
  "You may not use Docker's socket: add yourself to the docker group \
(sudo usermod -aG docker \$USER), then log in again."
  'Cannot connect to the Docker daemon|docker daemon running|error during connect|sock: connect'
  "Docker is not running: start Docker Desktop, or the engine with \
'sudo systemctl start docker', then try again."
  'port is already allocated|address already in use'
  "Port $port is already in use on this machine: stop what uses it, or choose another, \
e.g. 'make $target PORT=$((port + 1))'."
  'is already in use by container'
  "That container is already running: use it, or stop it with 'docker stop <name>' \
(the name is in the message above)."
  'COPY failed|failed to calculate checksum|failed to compute cache key.*not found'
  "A file that the Dockerfile copies is not in the build context: check that it exists \
and that .dockerignore does not exclude it."
  'do not match the hashes|hash mismatch|Hash mismatch'
  "A downloaded package does not match its hash in requirements.txt: relock it \
(make lock; docs/docker.md), or check where your packages come from."
  'all requirements must have a hash|requires a hash|--require-hashes'
  "requirements.txt is the lock, made from requirements.in: add the package to \
requirements.in instead, then make image relocks (docs/docker.md)."
  'No matching distribution|Could not find a version|not found in the package registry|No solution'
  "A package in requirements.in cannot be installed: check its name and version \
(pip index versions <name>)."
  'buildx component is missing|BuildKit is enabled but'
  "This docker client cannot do BuildKit builds: install the docker-buildx plugin, \
or point DOCKER= at a client that has it."
  'pull access denied|failed to resolve source metadata|manifest unknown|dial tcp.*registry'
  "The base image cannot be pulled: check your network, or build on a mirror, \
e.g. 'make image BASE_IMAGE=<mirror>/python:3.11-slim'."
)
for ((i = 0; i < ${#hints[@]}; i += 2)); do
  if grep -qiE "${hints[i]}" "$errors"; then
    echo "error: ${hints[i + 1]}" >&2
    break
  fi
done
exit "$status"
