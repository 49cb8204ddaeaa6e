"""What the GitHub Classroom autograder checks (.github/workflows/classroom.yml), one step each:
`python grade.py reproduce` reruns every run in results/ and compares; `python grade.py score`
checks the best reproduced score against grading.toml's min_score."""

import json
import sys
import tempfile
import tomllib
from pathlib import Path

from results import main_metric
from runs import RESULTS_DIR
from verify import reproduce

HERE = Path(__file__).resolve().parent
RECORD = HERE / "outputs" / "grade.json"  # what the reproduce step found, for the score step
GRADING = HERE / "grading.toml"


def reproduce_all() -> int:
    """Each handed-in run, rerun from its record: its scores again, and whether it reproduced."""
    runs = sorted(path.parent.name for path in RESULTS_DIR.glob("[!.]*/manifest.json"))
    if not runs:
        sys.exit("error: nothing is handed in: make submit RUN=<name>, commit, push results/")
    record = {}
    for run in runs:
        with tempfile.TemporaryDirectory() as scratch:
            status = reproduce(run, Path(scratch))
            rerun_dir = Path(scratch) / "outputs" / f"{run}-reproduced"
            rerun = json.loads((rerun_dir / "manifest.json").read_text())
        record[run] = {"reproduced": status == 0, "metrics": rerun["result"]["metrics"]}
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=2) + "\n")
    failed = [run for run, outcome in record.items() if not outcome["reproduced"]]
    if failed:
        print(f"FAILED: {', '.join(failed)} did not reproduce", file=sys.stderr)
    return 1 if failed else 0


def score() -> int:
    """The best score among the runs that reproduced, against the minimum that the course set."""
    minimum = tomllib.loads(GRADING.read_text()).get("min_score")
    if not RECORD.is_file():
        sys.exit("error: no run has been reproduced yet: make grade-reproduce first")
    record = json.loads(RECORD.read_text())
    reproduced = {run: outcome for run, outcome in record.items() if outcome["reproduced"]}
    scores = {run: main_metric(outcome["metrics"]) for run, outcome in reproduced.items()}
    if not scores:
        sys.exit("error: no handed-in run reproduced, so none has a score that counts")
    best = max(scores, key=scores.get)
    if minimum is None:
        print(f"OK: no min_score is set; the best reproduced run: {best}, {scores[best]:.4f}")
        return 0
    if scores[best] < minimum:
        print(
            f"FAILED: the best reproduced run, {best}, scored {scores[best]:.4f}, below {minimum}",
            file=sys.stderr,
        )
        return 1
    print(f"OK: run {best} reproduced with {scores[best]:.4f}, at least grading.toml's {minimum}")
    return 0


if __name__ == "__main__":
    sys.exit(score() if sys.argv[1:] == ["score"] else reproduce_all())
