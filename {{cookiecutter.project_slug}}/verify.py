"""Check that runs reproduce: the same metrics and predictions (the fingerprint), and the same model.
`python verify.py` compares two fresh runs of the current config; `--run NAME` reruns a recorded run."""

import json
import os
import sys
import tempfile
from pathlib import Path
from subprocess import DEVNULL, PIPE, Popen

import sources
from manifest import output_dir, recorded_runs

TRAIN = Path(__file__).resolve().parent / "train.py"
# Facts that may change a result, and that a reproduction warns about when they changed (not the host's kernel).
DRIFT_KEYS = ("code", "image", "lock", "python", "machine", "packages", "data", "hash_seed", "device")
# Where these agree, a run must give the very same model; elsewhere, only the same predictions.
SAME_MACHINE_KEYS = ("machine", "python", "packages", "device")


def fresh_runs(settings: dict, scratch: Path, names: list[str]) -> list[dict]:
    """Training runs in new Python processes, side by side, writing into scratch; returns their manifests."""
    processes = {}
    for name in names:
        env = {**os.environ, **settings, "RUN_NAME": name, "OUTPUT_DIR": str(scratch / "outputs")}
        env["TRACKIO_DIR"] = str(scratch / name)  # checks are not experiments: keep them off the dashboard
        env.pop("TRACKIO_SERVER_URL", None)
        processes[name] = Popen([sys.executable, str(TRAIN)], env=env, stdout=DEVNULL, stderr=PIPE, text=True)
    for name, process in processes.items():
        _, errors = process.communicate()
        if process.returncode != 0:
            sys.exit(f"error: the run {name} failed:\n{errors.strip()}")
    return [json.loads((scratch / "outputs" / name / "manifest.json").read_text()) for name in names]


def differences(old: dict, new: dict, old_dir: Path, new_dir: Path) -> list[str]:
    """A line for each part of two results that differs: the fingerprint, a metric (in the manifest or in
    metrics.json, which a hand-in also holds), the predictions."""
    parts = {"fingerprint": (old["fingerprint"], new["fingerprint"])}
    on_file = json.loads((old_dir / "metrics.json").read_text())
    for key, value in sorted(new["metrics"].items()):
        parts |= {f"metric {key}": (old["metrics"].get(key), value), f"metrics.json {key}": (on_file.get(key), value)}
    lines = [f"  {part}: {a!r} != {b!r}" for part, (a, b) in parts.items() if a != b]
    old_rows, new_rows = ((path / "predictions.csv").read_text().splitlines() for path in (old_dir, new_dir))
    changed = [f"    {a}  !=  {b}" for a, b in zip(old_rows, new_rows, strict=False) if a != b]
    if changed or len(old_rows) != len(new_rows):
        lines += [f"  predictions: {len(changed)} rows differ (row,true,predicted)", *changed[:10]]
    return lines


def drift(recorded: dict, current: dict) -> list[str]:
    """A line for each fact that changed since the recorded run (a push only adds the image's digest; the
    commit is checked apart, as a later commit may hold the very same code; data by its hash, not path)."""
    lines = []
    for key in DRIFT_KEYS:
        old, new = recorded.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            names = sorted((set(old) | set(new)) - {"digest", "git_commit", "file"})
            lines += [f"  {key} {n}: {old.get(n)} -> {new.get(n)}" for n in names if old.get(n) != new.get(n)]
        elif old != new:
            lines.append(f"  {key}: {old} -> {new}")
    return lines + (["  code: the working tree has uncommitted changes"] if current["code"]["dirty"] else [])


def compare(expected: dict, actual: dict, expected_dir: Path, actual_dir: Path, what: str) -> int:
    old, new = expected["result"], actual["result"]
    if changes := differences(old, new, expected_dir, actual_dir):
        print(f"FAILED: {what} did not reproduce:", *changes, sep="\n", file=sys.stderr)
        return 1
    result = f"fingerprint {new['fingerprint'][:12]}, model {new['model_sha256'][:12]}"
    if old["model_sha256"] == new["model_sha256"]:
        print(f"OK: {what} reproduced bit-identical: {result}")
    elif any(expected.get(key) != actual.get(key) for key in SAME_MACHINE_KEYS):
        print(f"OK: {what} reproduced: same predictions, different weights, as another kind of machine may give")
    else:
        unseeded = "on the same kind of machine and versions: a random draw is not seeded"
        print(f"FAILED: {what} gave the same predictions but other weights {unseeded} ({result})", file=sys.stderr)
        return 1
    return 0


def reproduce(run_name: str, scratch: Path) -> int:
    """Rerun a run of outputs/ or results/ with its recorded config, and compare the results."""
    if (recorded_dir := recorded_runs().get(run_name)) is None:
        runs = ", ".join(sorted(recorded_runs())) or "none"
        sys.exit(f"error: no recorded run {run_name!r} in {output_dir()} or results/: name one of {runs}")
    recorded = json.loads((recorded_dir / "manifest.json").read_text())
    settings = {key.upper(): str(value) for key, value in recorded["config"].items() if key != "run_name"}
    settings["DATA"] = sources.for_rerun(recorded, recorded_dir)  # checked before it trains
    [rerun] = fresh_runs(settings, scratch, [f"{run_name}-reproduced"])
    if (commit := recorded["code"]["git_commit"]) != rerun["code"]["git_commit"]:
        same = recorded["code"].get("tree") == rerun["code"]["tree"]
        how = "its code is the same" if same else f"the code differs: `git checkout {commit}` reruns the very code"
        print(f"{'note' if same else 'warning'}: HEAD is not {commit}, which made {run_name}; {how}", file=sys.stderr)
    if recorded.get("lock") and recorded.get("lock") == rerun.get("lock"):
        print(f"note: same lock (requirements.txt {rerun['lock'][:12]}) as {run_name}", file=sys.stderr)
    if changes := drift(recorded, rerun):
        print(f"warning: the environment changed since {run_name} was made:", *changes, sep="\n", file=sys.stderr)
    return compare(recorded, rerun, recorded_dir, scratch / "outputs" / rerun["run"], f"run {run_name}")


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        if sys.argv[1:2] == ["--run"]:
            return reproduce("".join(sys.argv[2:3]), Path(scratch))
        first, second = fresh_runs({}, Path(scratch), ["verify-1", "verify-2"])
        runs = Path(scratch) / "outputs"
        return compare(first, second, runs / "verify-1", runs / "verify-2", "two fresh runs of the same config")


if __name__ == "__main__":
    sys.exit(main())
