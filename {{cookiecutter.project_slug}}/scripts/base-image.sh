#!/usr/bin/env bash
# The base image, pinned. A tag such as python:3.11-slim moves (a Python patch, a Debian fix), so
# base-image.lock records what it was when the project first built: its registry digest, or, for a
# base built on this machine, its image ID. Commit that file: every later build uses the same base.
#   scripts/base-image.sh pin BASE_IMAGE PLATFORM       the pin: "digest sha256:..." or "id ..."
#   scripts/base-image.sh ref BASE_IMAGE PLATFORM       what to build from (both read the file only)
#   scripts/base-image.sh check BASE_IMAGE PLATFORM [1] pins on first use; says when the tag moved;
#                                                       with 1 (BASE_UPDATE=1) takes the new base
set -euo pipefail
mode=$1 name=$2 platform=$3 update=${4:-}
LOCK=base-image.lock
docker=${DOCKER:-docker}

pinned() { # "kind identity" of name for platform, or nothing
  [[ -f $LOCK ]] && awk -v name="$name" -v platform="$platform" \
    '$1 == name && $2 == platform {print $3, $4}' "$LOCK"
}

if [[ $mode == pin ]]; then
  pinned
  exit 0
fi
if [[ $mode == ref ]]; then
  read -r kind identity <<<"$(pinned)" || true
  # A digest can be pulled anywhere; an image ID exists only where it was built, under its tag.
  [[ ${kind:-} == digest ]] && echo "$name@$identity" || echo "$name"
  exit 0
fi

here() { # "digest identity" or "id identity" of the local image, or nothing
  local found
  local format='{{.Os}}/{{.Architecture}} {{.Id}} {{range .RepoDigests}}{{.}} {{end}}'
  found=$("$docker" image inspect --format "$format" "$name" 2>/dev/null) || return 0
  read -r os_arch id digests <<<"$found"
  [[ $os_arch == "$platform" ]] || return 0
  # A digest of this very repository (python@sha256:...), not of another name it was pushed as.
  local repository=$name
  [[ ${repository##*/} != *:* ]] || repository=${repository%:*}
  local digest
  for digest in ${digests:-}; do
    if [[ ${digest%@*} == "$repository" ]]; then
      echo "digest ${digest#*@}"
      return 0
    fi
  done
  echo "id $id"
}

pin() { # write name's line for platform, keeping every other line
  local others
  others=$(grep -v -F "$name $platform " "$LOCK" 2>/dev/null || true)
  {
    echo "# The base image of each platform, pinned by make image (docs/docker.md): commit it."
    grep -v '^#' <<<"$others" | grep . || true
    echo "$name $platform $1 $2"
  } >"$LOCK.partial"
  mv "$LOCK.partial" "$LOCK"
}

read -r kind identity <<<"$(pinned)" || true
current=$(here)
if [[ -z $current ]] && [[ ${kind:-} != digest ]]; then
  # Not here yet: pull it, to learn what it is (the build would pull it anyway). docker.sh says
  # what to do when that fails: start Docker, or build on a mirror.
  timeout 300 scripts/docker.sh pull --quiet --platform "$platform" "$name" >/dev/null || exit 1
  current=$(here)
  [[ -n $current ]] || {
    echo "error: the base image $name is not for $platform: name one that is, with BASE_IMAGE=" >&2
    exit 1
  }
fi
read -r now_kind now_identity <<<"$current" || true
if [[ -z ${kind:-} || $update == 1 ]]; then
  [[ ${kind:-} ]] && echo "base: $name ($platform) was ${identity:0:19}, now ${now_identity:0:19}"
  pin "$now_kind" "$now_identity"
  echo "base: pinned $name ($platform) at its $now_kind ${now_identity:0:19} in $LOCK: commit it"
elif [[ $kind == digest ]]; then
  if [[ -n $current && $now_identity != "$identity" ]]; then
    echo "note: $name has moved on; building on the pinned ${identity:0:19}, as" \
      "$LOCK says; make image BASE_UPDATE=1 takes the new one" >&2
  fi
elif [[ $now_identity != "$identity" ]]; then
  keep="keep the old base under its tag (docker tag $identity $name)"
  "$docker" image inspect "$identity" >/dev/null 2>&1 || keep="build the old base again"
  echo "error: $name ($platform) is now ${now_identity:0:19}, not the ${identity:0:19} that" \
    "$LOCK pins: $keep, or take the new one on purpose: make image BASE_UPDATE=1" >&2
  exit 1
fi
