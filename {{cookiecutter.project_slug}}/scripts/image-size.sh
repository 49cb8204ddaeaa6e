#!/usr/bin/env bash
# Prints the image's size, and warns when it is over the budget: a big image is slow to pull and push.
# Usage: scripts/image-size.sh IMAGE BUDGET_MB
set -euo pipefail
image=$1 budget_mb=$2
bytes=$("${DOCKER:-docker}" image inspect --format '{{.Size}}' "$image")
size_mb=$((bytes / 1000000))
echo "Image $image: $size_mb MB (budget $budget_mb MB)"
if ((size_mb > budget_mb)); then
  echo "warning: the image is over its budget of $budget_mb MB: drop unused packages from requirements.txt, or raise IMAGE_MAX_MB." >&2
fi
