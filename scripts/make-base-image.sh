#!/usr/bin/env bash
# Provide a Python base image where no registry can be reached.
# Usage: make-base-image.sh [IMAGE]   (default: python:3.11-slim)
#
# Uses the local image if present, else tries a pull, else builds a stand-in
# from Debian bookworm (python 3.11) with debootstrap and imports it under IMAGE.
set -euo pipefail

IMAGE=${1:-python:3.11-slim}
SUITE=bookworm
HOST_CA=/etc/ssl/certs/ca-certificates.crt
START=$SECONDS

# Debian's client; the one in /usr/local/bin lacks buildx (see provision-docker.sh).
DOCKER=docker
if [[ -x /usr/bin/docker ]]; then
    DOCKER=/usr/bin/docker
fi

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "Image $IMAGE already present; nothing to do."
    exit 0
fi

# A short timeout: where the registry is unreachable the pull can hang.
if timeout 60 "$DOCKER" pull "$IMAGE"; then
    echo "Pulled $IMAGE."
    exit 0
fi
echo "Could not pull $IMAGE; building a stand-in from Debian $SUITE."

# The stand-in always carries bookworm's python 3.11, whatever the tag says.
tag=${IMAGE##*:}
if [[ $tag != "$IMAGE" && $tag =~ ^([0-9]+\.[0-9]+) && ${BASH_REMATCH[1]} != 3.11 ]]; then
    echo "WARNING: $IMAGE asks for python ${BASH_REMATCH[1]}, but the stand-in provides $SUITE's python 3.11." >&2
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap
fi

DIR=$(mktemp -d /var/tmp/base-image.XXXXXX)
# --one-file-system: never descend into a /proc or /sys a failed run left mounted.
trap 'rm -rf --one-file-system "$DIR"' EXIT

debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates \
    "$SUITE" "$DIR"

# Let pip install system-wide, as it does in the official image (PEP 668 marker).
rm -f "$DIR"/usr/lib/python3*/EXTERNALLY-MANAGED

# The official image has python/pip in /usr/local/bin; Debian only has python3/pip3.
ln -sf /usr/bin/python3 "$DIR/usr/local/bin/python"
ln -sf /usr/bin/python3 "$DIR/usr/local/bin/python3"
ln -sf /usr/bin/pip3 "$DIR/usr/local/bin/pip"
ln -sf /usr/bin/pip3 "$DIR/usr/local/bin/pip3"

# PyPI is reached through a TLS-intercepting proxy here, so containers
# need the host's CA bundle, which includes the proxy's CA.
cp "$HOST_CA" "$DIR$HOST_CA"

# Keep the image small: package caches and lists are not needed at run time.
rm -rf "$DIR"/var/cache/apt/archives/*.deb "$DIR"/var/cache/apt/*.bin \
    "$DIR"/var/lib/apt/lists/*

tar -C "$DIR" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    - "$IMAGE"

size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
echo "Built $IMAGE in $((SECONDS - START))s, size $((size / 1000000)) MB."
