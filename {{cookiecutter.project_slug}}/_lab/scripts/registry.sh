#!/usr/bin/env bash
# Moves the project's image between this machine and a registry, so that another machine (a cluster,
# a classmate's laptop) runs the very same bytes instead of rebuilding, which may resolve differently.
#
#   scripts/registry.sh check push|pull REGISTRY  fail with one line if push or pull cannot work
#   scripts/registry.sh push IMAGE REGISTRY        tag IMAGE as REGISTRY/<name>:<content hash> and
#                                                  REGISTRY/<name>:git-<commit>, and push both
#   scripts/registry.sh pull IMAGE REGISTRY        pull REGISTRY/<name>:<content hash> and tag it IMAGE
#   scripts/registry.sh digest IMAGE               IMAGE's registry digest; nothing if never pushed or pulled
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
  image=$2 registry=${3%/}
  check push "$registry"
  remote=$registry/${image%%:*}
  commit=$(git rev-parse --short=12 HEAD)
  if [[ -n "$(git status --porcelain)" ]]; then
    echo "warning: the working tree has uncommitted changes: the tag git-$commit names the last commit, not them." >&2
  fi
  for tag in "$remote:${image##*:}" "$remote:git-$commit"; do
    docker tag "$image" "$tag"
    docker push "$tag"
  done
  echo "Pushed $image as $remote:${image##*:} and $remote:git-$commit"
  echo "Digest: $("$0" digest "$image")"
  ;;
pull)
  image=$2 registry=${3%/}
  check pull "$registry"
  remote=$registry/${image%%:*}
  docker pull "$remote:${image##*:}"
  docker tag "$remote:${image##*:}" "$image"
  echo "Pulled $remote:${image##*:} as $image"
  ;;
digest)
  # The repo digest (registry/name@sha256:...) is what `docker pull` takes to get exactly this image back.
  "${DOCKER:-docker}" image inspect --format '{{if .RepoDigests}}{{index .RepoDigests 0}}{{end}}' "$2" 2>/dev/null || true
  ;;
*)
  fail "usage: scripts/registry.sh check push|pull REGISTRY, push|pull IMAGE REGISTRY, or digest IMAGE"
  ;;
esac
