"""Check that runs reproduce.

    python verify.py            two fresh runs of the current config must give the same fingerprint
    python verify.py RUN_NAME   a re-run of a recorded run must give its recorded fingerprint

Exits 0 when they agree; otherwise prints what differs and exits 1.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", PROJECT_DIR / "outputs"))
# Environment facts that should not change between a run and its reproduction.
DRIFT_KEYS = ("image", "python", "platform", "packages", "data", "hash_seed")
MAX_LISTED = 10


def fresh_run(settings: dict, scratch: Path, name: str) -> dict:
    """One training run in a new Python process, writing to scratch; returns its manifest."""
    env = {**os.environ, **settings, "RUN_NAME": name, "OUTPUT_DIR": str(scratch / "outputs")}
    env["TRACKIO_DIR"] = str(scratch / "trackio")  # checks are not experiments: keep them off the dashboard
    result = subprocess.run([sys.executable, str(PROJECT_DIR / "train.py")], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"error: the run {name} failed:\n{result.stderr.strip()}")
    return json.loads((scratch / "outputs" / name / "manifest.json").read_text())


def predictions(manifest: dict, scratch_or_outputs: Path) -> list[str]:
    return (scratch_or_outputs / manifest["run"] / "predictions.csv").read_text().splitlines()


def differences(expected: dict, actual: dict, expected_dir: Path, actual_dir: Path) -> list[str]:
    """Readable lines naming each metric and prediction that differs."""
    lines = []
    expected_metrics, actual_metrics = expected["result"]["metrics"], actual["result"]["metrics"]
    for key in sorted(set(expected_metrics) | set(actual_metrics)):
        if expected_metrics.get(key) != actual_metrics.get(key):
            lines.append(f"  metric {key}: {expected_metrics.get(key)!r} != {actual_metrics.get(key)!r}")
    expected_rows, actual_rows = predictions(expected, expected_dir), predictions(actual, actual_dir)
    changed = [(a, b) for a, b in zip(expected_rows, actual_rows, strict=False) if a != b]
    if changed or len(expected_rows) != len(actual_rows):
        lines.append(f"  predictions: {len(changed)} of {len(expected_rows) - 1} rows differ (row,true,predicted)")
        lines += [f"    {a}  !=  {b}" for a, b in changed[:MAX_LISTED]]
    return lines


def drift(recorded: dict, current: dict) -> list[str]:
    """Each environment fact that changed since the recorded run."""
    lines = []
    if recorded["code"] != current["code"]:
        lines.append(f"  code: {recorded['code']} -> {current['code']}")
    for key in DRIFT_KEYS:
        if key == "image":
            # A push adds a registry digest to the same image: compare what was built, not where it went.
            old, new = ({k: v for k, v in facts["image"].items() if k != "digest"} for facts in (recorded, current))
            if old != new:
                lines.append(f"  image: {old} -> {new}")
        elif key == "packages":
            old, new = recorded["packages"], current["packages"]
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    lines.append(f"  package {name}: {old.get(name, 'absent')} -> {new.get(name, 'absent')}")
        elif recorded.get(key) != current.get(key):
            lines.append(f"  {key}: {recorded.get(key)} -> {current.get(key)}")
    if current["code"].get("dirty"):
        lines.append("  code: the working tree has uncommitted changes")
    return lines


def compare(expected: dict, actual: dict, expected_dir: Path, actual_dir: Path, what: str) -> int:
    if expected["result"]["fingerprint"] == actual["result"]["fingerprint"]:
        print(f"OK: {what} reproduced, fingerprint {actual['result']['fingerprint'][:12]}")
        return 0
    print(f"FAILED: {what} did not reproduce; fingerprints differ:", file=sys.stderr)
    print(f"  {expected['result']['fingerprint']} != {actual['result']['fingerprint']}", file=sys.stderr)
    print("\n".join(differences(expected, actual, expected_dir, actual_dir)), file=sys.stderr)
    return 1


def verify_twice(scratch: Path) -> int:
    first, second = (fresh_run({}, scratch, name) for name in ("verify-1", "verify-2"))
    runs_dir = scratch / "outputs"
    return compare(first, second, runs_dir, runs_dir, "two fresh runs of the same config")


def reproduce(run_name: str, scratch: Path) -> int:
    manifest_path = OUTPUT_DIR / run_name / "manifest.json"
    if not manifest_path.is_file():
        available = sorted(path.parent.name for path in OUTPUT_DIR.glob("*/manifest.json"))
        sys.exit(f"error: no recorded run {run_name!r} in {OUTPUT_DIR}; available: {', '.join(available) or 'none'}")
    recorded = json.loads(manifest_path.read_text())
    settings = {key.upper(): str(value) for key, value in recorded["config"].items() if key != "run_name"}
    rerun = fresh_run(settings, scratch, f"{run_name}-reproduced")
    changes = drift(recorded, rerun)
    if changes:
        print(f"warning: the environment differs from the one that made {run_name}:", file=sys.stderr)
        print("\n".join(changes), file=sys.stderr)
    return compare(recorded, rerun, OUTPUT_DIR, scratch / "outputs", f"run {run_name}")


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        if len(sys.argv) > 1:
            return reproduce(sys.argv[1], Path(scratch))
        return verify_twice(Path(scratch))


if __name__ == "__main__":
    sys.exit(main())
