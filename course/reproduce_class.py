"""Reproduce every run that a class handed in: clone each student's repository, build its image,
rerun each run in its results/ folder with `make reproduce`, and gather the outcomes in one Markdown
table, a CSV for a gradebook, and, for one student, Gradescope's results.json.

    python3 course/reproduce_class.py ROSTER [--work DIR] [--out FILE] [--csv FILE] [--jobs N]
                                             [--gradescope FILE]

ROSTER has a line per student, "<name> <git URL or path>"; blank lines and lines starting with # are
skipped.
Needs git, make and Docker on this machine; only the standard library of Python 3.10 or newer.
"""

import argparse
import csv
import fcntl
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COLUMNS = ("student", "run", "test score", "fingerprint", "reproduced", "notes")
CSV_COLUMNS = ("student", "run", "metric", "score", "reproduced", "outcome", "fingerprint", "notes")
# The image's tag, from the student's own Makefile: a hash of its Dockerfile, requirements and base.
PRINT_IMAGE = ["--eval", "print-image: ; @echo $(IMAGE)", "print-image"]


def row(student: str, run_name="", score=("", ""), fingerprint="", outcome="", notes="", ok=False):
    """One run's outcome; a student with no run to reproduce gets a row without a run."""
    metric, value = score
    test_score = f"{metric} {value:.4f}" if metric else ""
    reproduced = ("yes: " if ok else "NO: ") + outcome
    cells = (student, run_name, test_score, fingerprint, reproduced, notes)
    facts = {"metric": metric, "score": value, "ok": ok, "outcome": outcome}
    return dict(zip(COLUMNS, cells, strict=True)) | facts


def read_roster(path: Path) -> list[tuple[str, str]]:
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, url = line.strip().partition(" ")
            if not url.strip() or not re.fullmatch(r"[\w.-]+", name):
                wanted = "write '<name> <git URL or path>'"
                sys.exit(f"error: {path}:{number}: {wanted}, got {line.strip()!r}")
            entries.append((name, url.strip()))
    return entries


def run(command: list[str], folder: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=3600)


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return lines[-1] if lines else f"exit status {result.returncode}"


def score(record: Path) -> tuple[str, float | str]:
    """The run's main test score as handed in: accuracy, or R² for a regression."""
    metrics = json.loads((record / "metrics.json").read_text())
    name = next((key for key in ("test_accuracy", "test_r2") if key in metrics), None)
    return (name.removeprefix("test_"), metrics[name]) if name else ("", "")


def reproduce_one(student: str, folder: Path, run_name: str) -> dict:
    """`make reproduce` of one handed-in run: its outcome line, and every warning and drifted fact
    as notes."""
    record = folder / "results" / run_name
    fingerprint = json.loads((record / "manifest.json").read_text())["result"]["fingerprint"][:12]
    result = run(["make", "--no-print-directory", "reproduce", f"RUN={run_name}"], folder)
    said = (result.stdout + result.stderr).splitlines()
    outcome = next(
        (line for line in said if line.startswith(("OK:", "FAILED:"))), last_line(result)
    )
    # The warnings, and the lines indented under them and under FAILED: each drifted fact and
    # differing metric.
    notes = [
        line.strip()
        for line in said
        if line.startswith(("warning:", "note:", "  ")) and line[4:5] != " "
    ]
    ok, said_outcome = result.returncode == 0, outcome.split(": ", 1)[-1]
    noted = "; ".join(notes[:8])
    return row(student, run_name, score(record), fingerprint, said_outcome, noted, ok)


def build_image(folder: Path, locks: Path) -> subprocess.CompletedProcess:
    """`make image`, one build at a time per tag: repositories with the same Dockerfile,
    requirements and base share one image, which the first builds and the others find (flock holds
    across processes too)."""
    tag = run(["make", "--no-print-directory", "-s", *PRINT_IMAGE], folder).stdout.strip()
    lock = locks / (re.sub(r"[^\w.-]", "_", tag) or "unknown")
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        return run(["make", "--no-print-directory", "image"], folder)


def reproduce_student(student: str, url: str, work: Path) -> list[dict]:
    print(f"{student}: cloning {url} and reproducing its handed-in runs...", file=sys.stderr)
    folder = work / student
    # A fresh clone each time, as the student's last push left it.
    shutil.rmtree(folder, ignore_errors=True)
    failed = run(["git", "clone", "--quiet", url, str(folder)])
    if failed.returncode != 0:
        return [row(student, outcome=f"cannot clone: {last_line(failed)}")]
    runs = sorted(path.parent.name for path in folder.glob("results/*/manifest.json"))
    if not runs:
        return [row(student, outcome="nothing handed in (no results/<run>/)")]
    image = build_image(folder, work / ".image-locks")
    if image.returncode != 0:
        return [row(student, outcome=f"the image did not build: {last_line(image)}")]
    return [reproduce_one(student, folder, run_name) for run_name in runs]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += [
        "| " + " | ".join(str(row[column]).replace("|", "\\|") for column in COLUMNS) + " |"
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path: Path) -> None:
    """A row per student and run, for a gradebook: the score as a number, reproduced yes or no."""
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(row | {"reproduced": "yes" if row["ok"] else "no"} for row in rows)


def gradescope(rows: list[dict], seconds: float) -> dict:
    """Gradescope's results.json for one student: a test per handed-in run, a point if it
    reproduced, and the best reproduced score on the leaderboard."""
    tests = [
        {
            "name": f"run {row['run']} reproduces" if row["run"] else "a run is handed in",
            "score": 1 if row["ok"] else 0,
            "max_score": 1,
            "status": "passed" if row["ok"] else "failed",
            "output": "; ".join(filter(None, [row["reproduced"], row["notes"]])),
        }
        for row in rows
    ]
    scores = [row["score"] for row in rows if row["ok"] and row["metric"]]
    leaderboard = [{"name": "test score", "value": max(scores), "order": "desc"}] if scores else []
    return {
        "score": sum(test["score"] for test in tests),
        "execution_time": round(seconds),
        "output": markdown(rows),
        "tests": tests,
        "leaderboard": leaderboard,
    }


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roster", type=Path, help="a line per student: <name> <git URL or path>")
    parser.add_argument("--work", type=Path, default=Path("class-runs"), help="where the clones go")
    parser.add_argument(
        "--out", type=Path, default=Path("class-summary.md"), help="the summary table"
    )
    parser.add_argument("--csv", type=Path, help="also a CSV: a row per student and run")
    parser.add_argument("--gradescope", type=Path, help="also Gradescope's results.json")
    parser.add_argument("--jobs", type=int, default=1, help="students reproduced side by side")
    args = parser.parse_args()
    if not args.roster.is_file():
        wanted = "write one line per student, '<name> <git URL or path>'"
        sys.exit(f"error: no roster at {args.roster}: {wanted}")
    if args.jobs < 1:
        sys.exit(f"error: --jobs must be 1 or more, got {args.jobs}")
    return args


def main() -> int:
    args = parse_arguments()
    roster = read_roster(args.roster)
    if args.gradescope and len(roster) != 1:
        sys.exit(f"error: --gradescope grades one student, and {args.roster} names {len(roster)}")
    work = args.work.resolve()
    (work / ".image-locks").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        per_student = pool.map(lambda entry: reproduce_student(*entry, work), roster)
        rows = [row for student_rows in per_student for row in student_rows]  # the roster's order
    args.out.write_text(markdown(rows))
    if args.csv:
        write_csv(rows, args.csv)
    if args.gradescope:
        graded = gradescope(rows, time.monotonic() - started)
        args.gradescope.write_text(json.dumps(graded, indent=2) + "\n")
    print(markdown(rows) + f"\nAlso in {args.out}.")
    return 0 if all(row["ok"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
