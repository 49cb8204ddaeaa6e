#!/usr/bin/env bash
# Moves the project's image between this machine and a registry, so that another machine (a
# cluster, a classmate's laptop) runs the very same bytes instead of rebuilding, which may resolve
# differently.
#
#   scripts/registry.sh check push|pull REGISTRY
#       fail with one line if push or pull cannot work
#   scripts/registry.sh push REGISTRY IMAGE...
#       push each IMAGE (one per platform: <name>:<hash>-<platform>) under its own tag, then one
#       manifest list of them all as REGISTRY/<name>:<hash> and REGISTRY/<name>:git-<commit>
#   scripts/registry.sh pull IMAGE REGISTRY
#       pull REGISTRY/<name>:<hash>-<platform> and tag it IMAGE
set -euo pipefail

docker() { "$(dirname "$0")/docker.sh" "$@"; }

fail() {
  echo "error: $1" >&2
  exit 2
}

check() {
  local action=$1
  local registry=$2
  local example="make $action REGISTRY=registry.example.org:5000/my-lab"
  local no_url="REGISTRY is host:port[/path], without http:// or https://; got '$registry'"
  local no_commit="make push tags the image with the git commit, and this project has none yet:"
  no_commit+=" commit first (git add -A && git commit)"
  [[ -n "$registry" ]] || fail "name a registry, e.g. $example (host:port, then an optional path)"
  [[ "$registry" != *://* ]] || fail "$no_url"
  if [[ "$action" == push ]]; then
    git rev-parse --verify --quiet HEAD >/dev/null || fail "$no_commit"
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
  remote=$registry/${1%%:*}
  hash=${1#*:}
  hash=${hash%%-*}
  commit=$(git rev-parse --short=12 HEAD)
  if [[ -n "$(git status --porcelain)" ]]; then
    uncommitted="the working tree has uncommitted changes:"
    echo "warning: $uncommitted the tag git-$commit names the last commit, not them." >&2
  fi
  platform_tags=()
  platforms=()
  for image in "$@"; do
    tag=$remote:${image#*:}
    platform=${image#*:"$hash"-}
    platform_tags+=("$tag")
    platforms+=("${platform/-//}")
    docker tag "$image" "$tag"
    docker push "$tag"
  done
  # docker manifest needs --insecure for a registry that dockerd reaches over plain HTTP: its own
  # 127.0.0.0/8, or one listed in its insecure-registries. Any other is reached over verified TLS.
  host=${registry%%/*}
  flags=()
  plain_template='{{range $name, $index := .RegistryConfig.IndexConfigs}}'
  plain_template+='{{if not $index.Secure}}{{$name}} {{end}}{{end}}'
  plain_http=" $(docker info --format "$plain_template")"
  if [[ $host == 127.* || $host == localhost || $host == localhost:* ]]; then
    flags=(--insecure)
  elif [[ $plain_http == *" $host "* ]]; then
    flags=(--insecure)
  fi
  for list in "$remote:$hash" "$remote:git-$commit"; do
    # The local copy that an interrupted push left.
    docker manifest rm "$list" >/dev/null 2>&1 || true
    docker manifest create "${flags[@]}" "$list" "${platform_tags[@]}" >/dev/null
    digest=$(docker manifest push "${flags[@]}" --purge "$list")
  done
  echo "Pushed $remote:$hash and $remote:git-$commit, one image for ${platforms[*]}"
  echo "Digest: $remote@$digest (each machine pulls its own platform's image from it)"
  ;;
pull)
  image=$2
  registry=${3%/}
  check pull "$registry"
  remote=$registry/${image%%:*}
  docker pull "$remote:${image##*:}"
  docker tag "$remote:${image##*:}" "$image"
  echo "Pulled $remote:${image##*:} as $image"
  ;;
*)
  usage="scripts/registry.sh check push|pull REGISTRY, push REGISTRY IMAGE...,"
  usage+=" or pull IMAGE REGISTRY"
  fail "usage: $usage"
  ;;
esac
