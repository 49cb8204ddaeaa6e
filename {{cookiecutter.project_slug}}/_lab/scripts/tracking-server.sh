#!/usr/bin/env bash
# Starts TrackIO's own server in the project's image, in the background: one dashboard that a
# course or a lab logs to. Reading needs nothing, writing needs the write token.
# Usage: scripts/tracking-server.sh PROJECT IMAGE HOST PORT
#
# The server joins a Docker network named <project>-tracking: training containers on this
# machine join it too and reach the server by its container name. (They cannot use the host's
# 127.0.0.1, which inside a container is the container itself.) Other machines use HOST:PORT.
set -euo pipefail
project=$1
image=$2
host=$3
port=$4
name=$project-tracking
network=$project-tracking
# Under .trackio/, which git and the image already leave out: the runs, and the token, stay on
# this machine.
store=.trackio/server
token_file=$store/write-token
WAIT_SECONDS=90
ANSWERS="import urllib.request; urllib.request.urlopen('http://127.0.0.1:7860/', timeout=2)"
STOPPED="the tracking server stopped during start-up; run it in the foreground to see why:"
STOPPED+=" make shell, then trackio show"
SILENT="the tracking server did not answer within $WAIT_SECONDS s: see 'docker logs $name'"

docker() { "$(dirname "$0")/docker.sh" "$@"; }
# Docker itself, without docker.sh's hints: for questions whose answer may be no.
ask_docker() { "${DOCKER:-docker}" "$@" >/dev/null 2>&1; }

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

ask_docker network inspect "$network" || docker network create "$network" >/dev/null

# How the server's container runs, and why: confined as make train's is.
run=(--detach --rm) # in the background, and gone when it stops: its runs stay in $store
run+=(--init) # docker stop reaches the server, which ends cleanly
run+=(--name "$name" --network "$network") # training containers reach it by this name
run+=(--user "$(id -u):$(id -g)" -e HOME=/tmp) # as you: what it writes is yours
run+=(--cap-drop=ALL) # no Linux capabilities: a web server on a high port needs none
run+=(--security-opt=no-new-privileges) # and nothing inside can gain any
run+=(--read-only --tmpfs /tmp) # the image stays as built; scratch space in /tmp
run+=(--pids-limit=1024) # a runaway loop of processes cannot take the machine
run+=(-v "$PWD/$store:/data" -e TRACKIO_DIR=/data) # the runs, in this folder
# The token goes in through the environment, not the command line, where `ps` would show it.
run+=(-e TRACKIO_WRITE_TOKEN)
run+=(-e GRADIO_SERVER_PORT=7860 -p "$host:$port:7860") # on HOST only: 127.0.0.1 by default
TRACKIO_WRITE_TOKEN=$token docker run "${run[@]}" "$image" trackio show --host 0.0.0.0 >/dev/null

for ((i = 0; i < WAIT_SECONDS; i++)); do
  if ask_docker exec "$name" python -c "$ANSWERS"; then
    break
  fi
  if ! ask_docker container inspect "$name"; then
    echo "error: $STOPPED" >&2
    exit 1
  fi
  sleep 1
done
if ((i == WAIT_SECONDS)); then
  echo "error: $SILENT" >&2
  exit 1
fi

shown_host=$host
[[ "$host" != 0.0.0.0 ]] || shown_host=$(hostname)
address=http://$shown_host:$port/?project=$project
cat <<TEXT
TrackIO server of $project: $address  (make tracking-server-stop stops it)
Write token: $token ($token_source)
Log a run to it from this machine:
  make train NETWORK=$network TRACKIO_SERVER_URL=http://$name:7860 TRACKIO_WRITE_TOKEN=$token
TEXT
if [[ "$host" != 127.* ]]; then
  echo "From another machine:"
  echo "  make train TRACKIO_SERVER_URL=http://$shown_host:$port TRACKIO_WRITE_TOKEN=$token"
fi
