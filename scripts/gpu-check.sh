#!/usr/bin/env bash
# The PyTorch variant on a real GPU, in one command: bakes a fresh project, runs its own tests
# (their CUDA part included), checks that two CUDA runs give bit-identical weights, compares a CPU
# run with a CUDA run, and, where Docker has the NVIDIA runtime, trains and verifies in the image
# with GPU=1.
#
#   scripts/gpu-check.sh [OUTPUT_DIR]
#     (default build/gpu-check; the report is OUTPUT_DIR/gpu-check.md)
#
# It runs with the python3 on PATH, which must have torch with CUDA, pandas and scikit-learn;
# cookiecutter and trackio are added beside it (pip install --target). Without a network, name a
# folder that holds their wheels and those of whichever of their dependencies the machine lacks:
# GPU_CHECK_WHEELS=/path/to/wheels.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$repo/build/gpu-check}" && cd "${1:-$repo/build/gpu-check}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report=$out/gpu-check.md
failed=0
say() { echo "$*" | tee -a "$report"; }

python3 -c 'import torch, sys
sys.exit(0 if torch.cuda.is_available() else "error: torch sees no GPU here")'
if [[ -n "${GPU_CHECK_WHEELS:-}" ]]; then
  packages=(--no-index --no-deps "$GPU_CHECK_WHEELS"/*.whl)
else
  packages=(cookiecutter trackio==0.43.0)
fi
python3 -m pip install --quiet --disable-pip-version-check --target "$work/site" "${packages[@]}" \
  >"$work/pip.log" 2>&1 ||
  { cat "$work/pip.log" >&2; exit 1; }
export PYTHONPATH=$work/site${PYTHONPATH:+:$PYTHONPATH} PYTHONHASHSEED=0 \
  CUBLAS_WORKSPACE_CONFIG=:4096:8

python3 -m cookiecutter --no-input --output-dir "$work" "$repo" framework=pytorch \
  project_name="GPU Check" >/dev/null
cd "$work/gpu_check"
: >"$report"
say "# The PyTorch variant on a GPU"
say ""
today=$(date -u +%Y-%m-%d)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
say "$today, template commit $commit"
say ""
say '```'
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$report"
python3 - <<'PY' | tee -a "$report"
import torch

versions = f"torch {torch.__version__}, CUDA {torch.version.cuda}"
cudnn = torch.backends.cudnn.version()
print(f"{versions}, cuDNN {cudnn}, {torch.cuda.get_device_name()}")
PY
say '```'

say ""
say "## The project's own tests, on the GPU"
say '```'
python3 -m pytest -q -p no:cacheprovider -rs >"$out/pytest.log" 2>&1 || failed=1
tail -8 "$out/pytest.log" | tee -a "$report"
say '```'

say ""
say "## Two CUDA runs, and a CPU run beside a CUDA run"
say '```'
for settings in "" "HIDDEN=2048 NUM_WORKERS=2"; do
  verdict=$(export DEVICE=cuda $settings && python3 verify.py 2>&1) || failed=1
  say "verify DEVICE=cuda $settings: ${verdict##*$'\n'}"
done
for device in cpu cuda; do
  DEVICE=$device RUN_NAME=on-$device TRACKIO_DIR=$work/trackio python3 train.py >/dev/null
done
python3 - <<'PY' | tee -a "$report"
import json
manifests = (f"outputs/on-{device}/manifest.json" for device in ("cpu", "cuda"))
cpu, cuda = (json.load(open(manifest))["result"] for manifest in manifests)
print("CPU and CUDA runs: same predictions and metrics:", cpu["fingerprint"] == cuda["fingerprint"])
print("CPU and CUDA runs: same weights:", cpu["model_sha256"] == cuda["model_sha256"])
PY
verdict=$(python3 verify.py --run on-cuda 2>&1) || failed=1
say "reproduce the CUDA run: ${verdict##*$'\n'}"
say '```'

say ""
say "## In the image, with GPU=1"
if docker info 2>/dev/null | grep -qi nvidia; then
  say '```'
  make image train verify GPU=1 DEVICE=cuda >"$out/docker.log" 2>&1 || failed=1
  grep -E "^(OK|FAILED|error|Outputs)" "$out/docker.log" | tee -a "$report"
  say '```'
else
  say "Skipped: Docker with the NVIDIA Container Toolkit is not on this machine."
fi
echo "Report: $report"
exit "$failed"
