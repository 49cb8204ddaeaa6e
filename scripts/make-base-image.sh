#!/usr/bin/env bash
# Provide a Python base image where no registry can be reached.
# Usage: make-base-image.sh [IMAGE [PLATFORM]]
#   (default: python:3.11-slim, for this machine's platform)
#
# Uses the local image if present, else tries a pull, else builds a stand-in
# from Debian bookworm (python 3.11) with debootstrap and imports it under IMAGE.
#
# For another platform, e.g. `make-base-image.sh arm64v8/python:3.11-slim linux/arm64` (Apple
# Silicon's), debootstrap's second stage runs under qemu, through binfmt_misc. A local tag holds one
# platform only, so the stand-in takes the name of Docker Hub's image for that architecture, and a
# project builds on it with
#   make image PLATFORM=linux/arm64 BASE_IMAGE=arm64v8/python:3.11-slim
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

# Docker names architectures as Debian does (amd64, arm64); qemu as the kernel does (x86_64,
# aarch64).
HOST_ARCH=$(dpkg --print-architecture)
PLATFORM=${2:-linux/$HOST_ARCH}
ARCH=${PLATFORM#linux/}
QEMU_ARCH=$ARCH
[[ $ARCH != arm64 ]] || QEMU_ARCH=aarch64

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
    present=$("$DOCKER" image inspect --format '{{.Os}}/{{.Architecture}}' "$IMAGE")
    if [[ $present != "$PLATFORM" ]]; then
        echo "Image $IMAGE is here, but for $present, not $PLATFORM:" \
            "remove it, or give another name." >&2
        exit 1
    fi
    echo "Image $IMAGE already present; nothing to do."
    exit 0
fi

# A short timeout: where the registry is unreachable the pull can hang.
if timeout 60 "$DOCKER" pull --platform "$PLATFORM" "$IMAGE"; then
    echo "Pulled $IMAGE."
    exit 0
fi
echo "Could not pull $IMAGE; building a stand-in for $PLATFORM from Debian $SUITE."

# The stand-in always carries bookworm's python 3.11, whatever the tag says.
tag=${IMAGE##*:}
if [[ $tag != "$IMAGE" && $tag =~ ^([0-9]+\.[0-9]+) && ${BASH_REMATCH[1]} != 3.11 ]]; then
    echo "WARNING: $IMAGE asks for python ${BASH_REMATCH[1]}," \
        "but the stand-in provides $SUITE's python 3.11." >&2
fi

if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap
fi

# Another architecture's programs run under qemu: the kernel hands them over through binfmt_misc,
# which must be mounted (machines without systemd do not) and have qemu's handler enabled.
if [[ $ARCH != "$HOST_ARCH" && ! -e /proc/sys/fs/binfmt_misc/qemu-$QEMU_ARCH ]]; then
    if ! command -v update-binfmts >/dev/null 2>&1 ||
        [[ ! -e /usr/share/binfmts/qemu-$QEMU_ARCH ]]; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y qemu-user-static binfmt-support
    fi
    mountpoint -q /proc/sys/fs/binfmt_misc ||
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable "qemu-$QEMU_ARCH"
fi

WORK=$(mktemp -d /var/tmp/base-image.XXXXXX)
DIR=$WORK/rootfs
# --one-file-system: never descend into a /proc or /sys a failed run left mounted.
trap 'rm -rf --one-file-system "$WORK"' EXIT

if [[ $ARCH == "$HOST_ARCH" ]]; then
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$DIR"
else
    # The first stage only downloads and unpacks; the second runs the packages' scripts, emulated
    # (minutes).
    debootstrap --foreign --arch "$ARCH" --variant=minbase \
        --include=python3,python3-venv,python3-pip,ca-certificates \
        "$SUITE" "$DIR"
    chroot "$DIR" /debootstrap/debootstrap --second-stage
fi

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

ENV_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [[ $ARCH == "$HOST_ARCH" ]]; then
    tar -C "$DIR" -c . | "$DOCKER" import \
        --change "ENV PATH=$ENV_PATH" \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$IMAGE"
else
    # `docker import --platform` records this machine's platform whatever it is told (Docker 20.10);
    # a BuildKit build from scratch records the platform asked for.
    mkdir "$WORK/context"
    tar -C "$DIR" -cf "$WORK/context/rootfs.tar" .
    printf '%s\n' 'FROM scratch' 'ADD rootfs.tar /' "ENV PATH=$ENV_PATH LANG=C.UTF-8" \
        'CMD ["python3"]' >"$WORK/context/Dockerfile"
    DOCKER_BUILDKIT=1 "$DOCKER" build --platform "$PLATFORM" --tag "$IMAGE" "$WORK/context"
fi

size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
echo "Built $IMAGE for $PLATFORM in $((SECONDS - START))s, size $((size / 1000000)) MB."
