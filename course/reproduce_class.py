"""Reproduce every run that a class handed in: clone each student's repository, build its image, rerun each
run in its results/ folder with `make reproduce`, and gather the outcomes in one Markdown table.

    python3 course/reproduce_class.py ROSTER [--work DIR] [--out FILE]

ROSTER has a line per student, "<name> <git URL or path>"; blank lines and lines starting with # are skipped.
Needs git, make and Docker on this machine; only the standard library of Python 3.10 or newer.
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

COLUMNS = ("student", "run", "test score", "fingerprint", "reproduced", "notes")


def row(student: str, run_name="", test_score="", fingerprint="", reproduced="", notes="") -> dict:
    return dict(zip(COLUMNS, (student, run_name, test_score, fingerprint, reproduced, notes), strict=True))


def read_roster(path: Path) -> list[tuple[str, str]]:
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, url = line.strip().partition(" ")
            if not url.strip() or not re.fullmatch(r"[\w.-]+", name):
                sys.exit(f"error: {path}:{number}: write '<name> <git URL or path>', got {line.strip()!r}")
            entries.append((name, url.strip()))
    return entries


def run(command: list[str], folder: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=3600)


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return lines[-1] if lines else f"exit status {result.returncode}"


def score(record: Path) -> str:
    metrics = json.loads((record / "metrics.json").read_text())
    name = next((key for key in ("test_accuracy", "test_r2") if key in metrics), None)
    return f"{name.removeprefix('test_')} {metrics[name]:.4f}" if name else ""


def reproduce_one(student: str, folder: Path, run_name: str) -> dict:
    """`make reproduce` of one handed-in run: its outcome line, and every warning and drifted fact as notes."""
    record = folder / "results" / run_name
    fingerprint = json.loads((record / "manifest.json").read_text())["result"]["fingerprint"][:12]
    result = run(["make", "--no-print-directory", "reproduce", f"RUN={run_name}"], folder)
    said = (result.stdout + result.stderr).splitlines()
    outcome = next((line for line in said if line.startswith(("OK:", "FAILED:"))), last_line(result))
    # The warnings, and the lines indented under them and under FAILED: each drifted fact and differing metric.
    notes = [line.strip() for line in said if line.startswith(("warning:", "note:", "  ")) and line[4:5] != " "]
    reproduced = ("yes: " if result.returncode == 0 else "NO: ") + outcome.split(": ", 1)[-1]
    return row(student, run_name, score(record), fingerprint, reproduced, "; ".join(notes[:8]))


def reproduce_student(student: str, url: str, work: Path) -> list[dict]:
    folder = work / student
    shutil.rmtree(folder, ignore_errors=True)  # a fresh clone each time, as the student's last push left it
    failed = run(["git", "clone", "--quiet", url, str(folder)])
    if failed.returncode != 0:
        return [row(student, reproduced=f"NO: cannot clone: {last_line(failed)}")]
    runs = sorted(path.parent.name for path in folder.glob("results/*/manifest.json"))
    if not runs:
        return [row(student, reproduced="NO: nothing handed in (no results/<run>/)")]
    image = run(["make", "--no-print-directory", "image"], folder)
    if image.returncode != 0:
        return [row(student, reproduced=f"NO: the image did not build: {last_line(image)}")]
    return [reproduce_one(student, folder, run_name) for run_name in runs]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row[column]).replace("|", "\\|") for column in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roster", type=Path, help="a line per student: <name> <git URL or path>")
    parser.add_argument("--work", type=Path, default=Path("class-runs"), help="where the clones go")
    parser.add_argument("--out", type=Path, default=Path("class-summary.md"), help="the summary table")
    args = parser.parse_args()
    if not args.roster.is_file():
        sys.exit(f"error: no roster at {args.roster}: write one line per student, '<name> <git URL or path>'")
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for student, url in read_roster(args.roster):
        print(f"{student}: cloning {url} and reproducing its handed-in runs...", file=sys.stderr)
        rows += reproduce_student(student, url, args.work.resolve())
    args.out.write_text(markdown(rows))
    print(markdown(rows) + f"\nAlso in {args.out}.")
    return 0 if all(row["reproduced"].startswith("yes") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
