#!/usr/bin/env bash
# Resolves requirements.in into requirements.txt, exact versions with hashes, with the uv and Python of the
# image. Locked versions stay unless requirements.in asks otherwise; the file changes only when the lock does.
set -euo pipefail # usage: scripts/lock.sh UV_IMAGE_NAME BASE_IMAGE
scripts/docker.sh build --quiet --target uv --tag "$1" --build-arg BASE_IMAGE="$2" . >/dev/null
scripts/docker.sh run --rm --user "$(id -u):$(id -g)" -e UV_SYSTEM_CERTS=1 -v "$PWD:/app" -w /app "$1" sh -c \
  'cp requirements.txt /tmp/lock && /uv/bin/uv pip compile --quiet --generate-hashes --custom-compile-command "make image" \
  -o /tmp/lock requirements.in && { cmp -s /tmp/lock requirements.txt || cp /tmp/lock requirements.txt; }'
touch requirements.txt
