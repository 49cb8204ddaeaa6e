#!/usr/bin/env bash
# Make sure a Docker registry answers on 127.0.0.1:5000, for the `make push` tests.
# Safe to run repeatedly: does nothing when one already answers.
# dockerd trusts registries on 127.0.0.0/8 without TLS, so this one needs no certificate;
# it listens on the loopback interface only, because it has no authentication.
set -euo pipefail

ADDRESS=${REGISTRY_ADDRESS:-127.0.0.1:5000}
CONFIG=/etc/docker/registry/repro-template.yml
STORAGE=/var/lib/docker-registry
LOG=/var/log/docker-registry.log
WAIT_SECONDS=30

answers() { curl --silent --fail --max-time 2 "http://$ADDRESS/v2/" >/dev/null; }

if answers; then
    echo "A registry already answers on $ADDRESS; nothing to do."
    exit 0
fi

if [[ $EUID -ne 0 ]]; then
    echo "No registry answers on $ADDRESS and starting one needs root:" \
        "run this script with sudo." >&2
    exit 1
fi

if ! command -v docker-registry >/dev/null 2>&1; then
    echo "Installing docker-registry..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi

# Debian's own config asks for an htpasswd file that does not exist: write one without
# authentication.
mkdir -p "$(dirname "$CONFIG")" "$STORAGE"
cat >"$CONFIG" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $STORAGE
  delete:
    enabled: true
http:
  addr: $ADDRESS
YAML

# No init system starts services here, so run it ourselves, detached so that it outlives this
# script.
echo "Starting docker-registry on $ADDRESS (log: $LOG)..."
nohup docker-registry serve "$CONFIG" >>"$LOG" 2>&1 &
pid=$!

for ((i = 0; i < WAIT_SECONDS; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "docker-registry exited during start-up; see $LOG" >&2
        exit 1
    fi
    if answers; then
        echo "Registry is up on $ADDRESS."
        exit 0
    fi
    sleep 1
done
echo "docker-registry did not answer on $ADDRESS within $WAIT_SECONDS s; see $LOG" >&2
exit 1
