#!/usr/bin/env bash
# The facts of a run that only the host knows, as an env file for `docker run --env-file`: the
# image has no git, nor its own ID. manifest.py records them. Usage: scripts/run-facts.sh [IMAGE]
set -uo pipefail
sha256() { { sha256sum 2>/dev/null || shasum -a 256; } | cut -c1-64; }
if [[ -n "${1:-}" ]]; then
  # What the image was built from, as scripts/build-image.sh labelled it.
  format="IMAGE=$1
IMAGE_ID={{.Id}}
IMAGE_DIGEST={{if .RepoDigests}}{{index .RepoDigests 0}}{{end}}
BASE_IMAGE={{index .Config.Labels \"org.opencontainers.image.base.name\"}}
BASE_ID={{index .Config.Labels \"org.opencontainers.image.base.digest\"}}
LOCK_SHA256={{index .Config.Labels \"lock.sha256\"}}"
  "${DOCKER:-docker}" image inspect --format "$format" "$1" 2>/dev/null
fi
git rev-parse --verify --quiet HEAD >/dev/null 2>&1 || exit 0
echo "GIT_COMMIT=$(git rev-parse HEAD)"
# The committed code without results/: a commit that only hands a run in keeps the same code tree.
echo "GIT_CODE_TREE=$(git ls-tree HEAD | grep -v $'\tresults$' | sha256)"
echo "GIT_DIRTY=$([[ -n "$(git status --porcelain)" ]] && echo true || echo false)"
untracked() {
  git ls-files -o --exclude-standard
  git ls-files -oz --exclude-standard | xargs -0r git hash-object --
}
echo "GIT_DIFF_SHA256=$({ git diff HEAD && untracked; } | sha256)"
