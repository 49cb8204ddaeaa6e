#!/usr/bin/env bash
# Starts TrackIO's own server in the project's image, in the background: one dashboard that a course or
# a lab logs to. Reading needs nothing, writing needs the write token.
# Usage: scripts/tracking-server.sh PROJECT IMAGE HOST PORT
#
# The server joins a Docker network named <project>-tracking: training containers on this machine join it
# too and reach the server by its container name. (They cannot use the host's 127.0.0.1, which inside a
# container is the container itself.) Other machines use HOST:PORT.
set -euo pipefail
project=$1 image=$2 host=$3 port=$4
name=$project-tracking
network=$project-tracking
# Under .trackio/, which git and the image already leave out: the runs, and the token, stay on this machine.
store=.trackio/server
token_file=$store/write-token
WAIT_SECONDS=90

docker() { "$(dirname "$0")/docker.sh" "$@"; }

mkdir -p "$store"
if [[ -n "${TRACKIO_WRITE_TOKEN:-}" ]]; then
  token=$TRACKIO_WRITE_TOKEN
  token_source="given in TRACKIO_WRITE_TOKEN"
else
  # Generated once, then reused: clients that already have it keep working after a restart.
  if [[ ! -s "$token_file" ]]; then
    (umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$token_file")
  fi
  token=$(<"$token_file")
  token_source="kept in $token_file"
fi

"${DOCKER:-docker}" network inspect "$network" >/dev/null 2>&1 || docker network create "$network" >/dev/null
# The token goes in through the environment, not the command line, where `ps` would show it.
TRACKIO_WRITE_TOKEN=$token docker run --detach --rm --init --name "$name" --network "$network" \
  --user "$(id -u):$(id -g)" -e HOME=/tmp -v "$PWD/$store:/data" -e TRACKIO_DIR=/data \
  -e TRACKIO_WRITE_TOKEN -e GRADIO_SERVER_PORT=7860 -p "$host:$port:7860" \
  "$image" trackio show --host 0.0.0.0 >/dev/null

for ((i = 0; i < WAIT_SECONDS; i++)); do
  if "${DOCKER:-docker}" exec "$name" python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=2)" >/dev/null 2>&1; then
    break
  fi
  if ! "${DOCKER:-docker}" container inspect "$name" >/dev/null 2>&1; then
    echo "error: the tracking server stopped during start-up; run it in the foreground to see why: make shell, then trackio show" >&2
    exit 1
  fi
  sleep 1
done
if ((i == WAIT_SECONDS)); then
  echo "error: the tracking server did not answer within $WAIT_SECONDS s: see 'docker logs $name'" >&2
  exit 1
fi

shown_host=$host
[[ "$host" != 0.0.0.0 ]] || shown_host=$(hostname)
cat <<TEXT
TrackIO server of $project: http://$shown_host:$port/?project=$project  (make tracking-server-stop stops it)
Write token: $token ($token_source)
Log a run to it from this machine:
  make train NETWORK=$network TRACKIO_SERVER_URL=http://$name:7860 TRACKIO_WRITE_TOKEN=$token
TEXT
if [[ "$host" != 127.* ]]; then
  echo "From another machine:"
  echo "  make train TRACKIO_SERVER_URL=http://$shown_host:$port TRACKIO_WRITE_TOKEN=$token"
fi
