"""Check that runs reproduce: the same metrics and predictions (the fingerprint), and the same
model. `python verify.py` compares two fresh runs of the current config;
`python verify.py --run NAME` reruns a recorded run."""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from subprocess import DEVNULL, PIPE, Popen

import sources
from runs import output_dir, recorded_runs

TRAIN = Path(__file__).resolve().parent / "train.py"
# A manifest's keys that are not facts of the environment: the rest may change a result, and a
# reproduction warns when one changed. The host's kernel and thread pools are noted, not compared.
NOT_FACTS = {"run", "created", "seed", "config", "result", "platform", "threadpools"}
# Facts that cannot change a weight: where all other facts agree, a run must give the very same
# model; elsewhere, only the same predictions.
NOT_WEIGHTS = {"code", "image", "lock", "data", "hash_seed"}


def facts(manifest: dict) -> set[str]:
    return set(manifest) - NOT_FACTS


def fresh_runs(settings: dict, scratch: Path, names: list[str]) -> list[dict]:
    """Training runs in new Python processes, side by side, writing into scratch;
    returns their manifests."""
    processes = {}
    # Checks are not experiments: keep them off the dashboard, and off any tracking server.
    untracked = {key: value for key, value in os.environ.items() if not key.startswith("TRACKIO_")}
    for name in names:
        env = {**untracked, **settings, "RUN_NAME": name, "OUTPUT_DIR": str(scratch / "outputs")}
        env["TRACKIO_DIR"] = str(scratch / name)
        command = [sys.executable, str(TRAIN)]
        processes[name] = Popen(command, env=env, stdout=DEVNULL, stderr=PIPE, text=True)
    for name, process in processes.items():
        _, errors = process.communicate()
        if process.returncode != 0:
            sys.exit(f"error: the run {name} failed:\n{errors.strip()}")
    return [
        json.loads((scratch / "outputs" / name / "manifest.json").read_text()) for name in names
    ]


def differences(old: dict, new: dict, old_dir: Path, new_dir: Path) -> list[str]:
    """A line for each part of two results that differs: the fingerprint, a metric (in the
    manifest or in metrics.json, which a hand-in also holds), the predictions."""
    parts = {"fingerprint": (old["fingerprint"], new["fingerprint"])}
    on_file = json.loads((old_dir / "metrics.json").read_text())
    for key, value in sorted(new["metrics"].items()):
        parts[f"metric {key}"] = (old["metrics"].get(key), value)
        parts[f"metrics.json {key}"] = (on_file.get(key), value)
    lines = [f"  {part}: {a!r} != {b!r}" for part, (a, b) in parts.items() if a != b]
    old_rows = (old_dir / "predictions.csv").read_text().splitlines()
    new_rows = (new_dir / "predictions.csv").read_text().splitlines()
    changed = [f"    {a}  !=  {b}" for a, b in zip(old_rows, new_rows, strict=False) if a != b]
    if changed or len(old_rows) != len(new_rows):
        lines += [f"  predictions: {len(changed)} rows differ (row,true,predicted)", *changed[:10]]
    return lines


def drift(recorded: dict, current: dict) -> list[str]:
    """A line for each fact that changed since the recorded run (a push only adds the image's
    digest; the commit is checked apart, as a later commit may hold the very same code; data by
    its hash, not its path)."""
    lines = []
    for key in sorted(facts(recorded) | facts(current)):
        old, new = recorded.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            names = sorted((set(old) | set(new)) - {"digest", "git_commit", "file"})
            changed = [name for name in names if old.get(name) != new.get(name)]
            lines += [f"  {key} {name}: {old.get(name)} -> {new.get(name)}" for name in changed]
        elif old != new:
            lines.append(f"  {key}: {old} -> {new}")
    if current["code"]["dirty"]:
        lines.append("  code: the working tree has uncommitted changes")
    return lines


def compare(expected: dict, actual: dict, expected_dir: Path, actual_dir: Path, what: str) -> int:
    old = expected["result"]
    new = actual["result"]
    changes = differences(old, new, expected_dir, actual_dir)
    if changes:
        print(f"FAILED: {what} did not reproduce:", *changes, sep="\n", file=sys.stderr)
        return 1
    result = f"fingerprint {new['fingerprint'][:12]}, model {new['model_sha256'][:12]}"
    weighed = (facts(expected) | facts(actual)) - NOT_WEIGHTS
    if old["model_sha256"] == new["model_sha256"]:
        print(f"OK: {what} reproduced bit-identical: {result}")
    elif any(expected.get(key) != actual.get(key) for key in weighed):
        why = "as another kind of machine may give"
        print(f"OK: {what} reproduced: same predictions, different weights, {why}")
    else:
        unseeded = "on the same kind of machine and versions: a random draw is not seeded"
        other = f"gave the same predictions but other weights {unseeded}"
        print(f"FAILED: {what} {other} ({result})", file=sys.stderr)
        return 1
    return 0


def reproduce(run_name: str, scratch: Path) -> int:
    """Rerun a run of outputs/ or results/ with its recorded config, and compare the results."""
    recorded_dir = recorded_runs().get(run_name)
    if recorded_dir is None:
        runs = ", ".join(sorted(recorded_runs())) or "none"
        where = f"in {output_dir()} or results/"
        sys.exit(f"error: no recorded run {run_name!r} {where}: name one of {runs}")
    recorded = json.loads((recorded_dir / "manifest.json").read_text())
    config = recorded["config"]
    settings = {key.upper(): str(value) for key, value in config.items() if key != "run_name"}
    settings["DATA"] = sources.for_rerun(recorded, recorded_dir)  # checked before it trains
    [rerun] = fresh_runs(settings, scratch, [f"{run_name}-reproduced"])
    note_commit(run_name, recorded, rerun)
    if recorded.get("lock") and recorded.get("lock") == rerun.get("lock"):
        lock = f"requirements.txt {rerun['lock'][:12]}"
        print(f"note: same lock ({lock}) as {run_name}", file=sys.stderr)
    changes = drift(recorded, rerun)
    if changes:
        changed = f"the environment changed since {run_name} was made"
        print(f"warning: {changed}:", *changes, sep="\n", file=sys.stderr)
    rerun_dir = scratch / "outputs" / rerun["run"]
    return compare(recorded, rerun, recorded_dir, rerun_dir, f"run {run_name}")


def note_commit(run_name: str, recorded: dict, rerun: dict) -> None:
    """A later commit may hold the very same code: a note if it does, a warning if it does not."""
    commit = recorded["code"]["git_commit"]
    if commit == rerun["code"]["git_commit"]:
        return
    made = f"HEAD is not {commit}, which made {run_name}"
    if recorded["code"].get("tree") == rerun["code"]["tree"]:
        print(f"note: {made}; its code is the same", file=sys.stderr)
    else:
        how = f"`git checkout {commit}` reruns the very code"
        print(f"warning: {made}; the code differs: {how}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description="Check that runs reproduce.")
    parser.add_argument("--run", metavar="NAME", help="rerun this recorded run, and compare")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if arguments.run is not None:
            return reproduce(arguments.run, scratch)
        names = ["verify-1", "verify-2"]
        first, second = fresh_runs({}, scratch, names)
        first_dir, second_dir = (scratch / "outputs" / name for name in names)
        return compare(first, second, first_dir, second_dir, "two fresh runs of the same config")


if __name__ == "__main__":
    sys.exit(main())
