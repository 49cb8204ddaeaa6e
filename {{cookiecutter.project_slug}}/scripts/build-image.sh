#!/usr/bin/env bash
# Builds the image unless one with its tag is here already. The tag is a hash of all that goes into
# the image (make computes it), so an image with that tag is up to date. make's stamp in .make/
# records the platform's last build; a build that fails or is interrupted leaves none.
# Usage: scripts/build-image.sh IMAGE PLATFORM BASE_IMAGE MAX_MB [BUILD_FLAGS ...]
# Any BUILD_FLAGS build, even when the image is here: --no-cache means a build.
set -euo pipefail
image=$1 platform=$2 base=$3 max_mb=$4
shift 4
stamp=.make/image-${image#*:}
# One stamp per platform: the image it last built, or found up to date.
mark_up_to_date() {
  rm -f .make/image-*-"${platform//\//-}"
  mkdir -p .make
  touch "$stamp"
}

if [[ $# -eq 0 ]] && scripts/docker.sh image inspect "$image" >/dev/null 2>&1; then
  mark_up_to_date
  echo "Image $image is up to date."
  exit 0
fi
echo "Building $image: its Dockerfile, lock or base changed, or it is gone."
rm -f .make/image-*-"${platform//\//-}"
read -r kind identity <<<"$(scripts/base-image.sh pin "$base" "$platform")" || true
lock=$({ sha256sum requirements.txt 2>/dev/null || shasum -a 256 requirements.txt; } | cut -c1-64)
# The labels tell each run what the image was built from; manifest.py records them.
scripts/docker.sh build "$@" --platform "$platform" \
  --build-arg BASE_IMAGE="$(scripts/base-image.sh ref "$base" "$platform")" \
  --label "org.opencontainers.image.base.name=$base" \
  --label "org.opencontainers.image.base.digest=${identity:-}" \
  --label "lock.sha256=$lock" \
  --tag "$image" .
size_mb=$(($(scripts/docker.sh image inspect --format '{{.Size}}' "$image") / 1000000))
mark_up_to_date
echo "Image $image: $size_mb MB"
echo "Image $image is up to date."
if ((size_mb > max_mb)); then
  echo "warning: the image is over its budget of $max_mb MB (IMAGE_MAX_MB): drop unused" \
    "packages from requirements.in, or raise the budget." >&2
fi
