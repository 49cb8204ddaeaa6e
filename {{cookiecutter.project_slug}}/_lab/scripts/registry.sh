#!/usr/bin/env bash
# Moves the project's image between this machine and a registry, so that another machine (a cluster,
# a classmate's laptop) runs the very same bytes instead of rebuilding, which may resolve differently.
#
#   scripts/registry.sh check push|pull REGISTRY  fail with one line if push or pull cannot work
#   scripts/registry.sh push REGISTRY IMAGE...     push each IMAGE (one per platform: <name>:<hash>-<platform>)
#                                                  under its own tag, then one manifest list of them all as
#                                                  REGISTRY/<name>:<hash> and REGISTRY/<name>:git-<commit>
#   scripts/registry.sh pull IMAGE REGISTRY        pull REGISTRY/<name>:<hash>-<platform> and tag it IMAGE
set -euo pipefail

docker() { "$(dirname "$0")/docker.sh" "$@"; }

fail() {
  echo "error: $1" >&2
  exit 2
}

check() {
  local action=$1 registry=$2
  [[ -n "$registry" ]] ||
    fail "name a registry, e.g. make $action REGISTRY=registry.example.org:5000/my-lab (host:port, then an optional path)"
  [[ "$registry" != *://* ]] || fail "REGISTRY is host:port[/path], without http:// or https://; got '$registry'"
  if [[ "$action" == push ]]; then
    git rev-parse --verify --quiet HEAD >/dev/null ||
      fail "make push tags the image with the git commit, and this project has none yet: commit first (git add -A && git commit)"
  fi
}

case "${1:-}" in
check)
  check "$2" "${3:-}"
  ;;
push)
  registry=${2%/}
  shift 2
  check push "$registry"
  remote=$registry/${1%%:*} hash=${1#*:} && hash=${hash%%-*}
  commit=$(git rev-parse --short=12 HEAD)
  if [[ -n "$(git status --porcelain)" ]]; then
    echo "warning: the working tree has uncommitted changes: the tag git-$commit names the last commit, not them." >&2
  fi
  platform_tags=() platforms=()
  for image in "$@"; do
    platform_tags+=("$remote:${image#*:}") && platform=${image#*:"$hash"-} && platforms+=("${platform/-//}")
    docker tag "$image" "$remote:${image#*:}"
    docker push "$remote:${image#*:}"
  done
  # docker manifest needs --insecure for a registry that dockerd reaches over plain HTTP: its own 127.0.0.0/8,
  # or one listed in its insecure-registries. Any other is reached over verified TLS.
  host=${registry%%/*} flags=()
  plain_http=" $(docker info --format \
    '{{range $name, $index := .RegistryConfig.IndexConfigs}}{{if not $index.Secure}}{{$name}} {{end}}{{end}}')"
  if [[ $host == 127.* || $host == localhost || $host == localhost:* || $plain_http == *" $host "* ]]; then
    flags=(--insecure)
  fi
  for list in "$remote:$hash" "$remote:git-$commit"; do
    docker manifest rm "$list" >/dev/null 2>&1 || true # the local copy that an interrupted push left
    docker manifest create "${flags[@]}" "$list" "${platform_tags[@]}" >/dev/null
    digest=$(docker manifest push "${flags[@]}" --purge "$list")
  done
  echo "Pushed $remote:$hash and $remote:git-$commit, one image for ${platforms[*]}"
  echo "Digest: $remote@$digest (each machine pulls its own platform's image from it)"
  ;;
pull)
  image=$2 registry=${3%/}
  check pull "$registry"
  remote=$registry/${image%%:*}
  docker pull "$remote:${image##*:}"
  docker tag "$remote:${image##*:}" "$image"
  echo "Pulled $remote:${image##*:} as $image"
  ;;
*)
  fail "usage: scripts/registry.sh check push|pull REGISTRY, push REGISTRY IMAGE..., or pull IMAGE REGISTRY"
  ;;
esac
