#!/usr/bin/env bash
# Make sure a Docker engine is running on this machine.
# Safe to run repeatedly: does nothing when the daemon already answers.
set -euo pipefail

LOG=/var/log/dockerd.log
WAIT_SECONDS=60

# Prefer Debian's client: the one in /usr/local/bin lacks the buildx plugin,
# so BuildKit builds (RUN --mount=type=cache) fail with it.
DOCKER=docker
if [[ -x /usr/bin/docker ]]; then
    DOCKER=/usr/bin/docker
fi

if "$DOCKER" info >/dev/null 2>&1; then
    echo "Docker engine already running; nothing to do."
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "Docker engine does not answer and starting it needs root: run this script with sudo." >&2
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
    echo "Installing docker.io..."
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io
    DOCKER=/usr/bin/docker
fi

# No init system starts services here, so run the daemon ourselves,
# detached so it outlives this script.
echo "Starting dockerd (log: $LOG)..."
nohup dockerd >>"$LOG" 2>&1 &
pid=$!

for ((i = 0; i < WAIT_SECONDS; i++)); do
    # Fail fast instead of waiting out the timeout when dockerd dies at start.
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "dockerd exited during start-up; see $LOG" >&2
        exit 1
    fi
    if "$DOCKER" info >/dev/null 2>&1; then
        echo "Docker engine is up."
        exit 0
    fi
    sleep 1
done

echo "dockerd did not answer within ${WAIT_SECONDS}s; see $LOG" >&2
exit 1
