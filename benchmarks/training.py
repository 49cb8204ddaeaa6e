"""What a training run costs: train.py, before and now, against the plain pipeline a student
writes by hand.

Writes a mixed CSV of each size (12 numeric columns, 5% of one of them empty; 2 text columns, one
with empty cells; a text target), bakes the default project from this checkout and from `--before`
(a git revision), and runs in turn, one process at a time, in this Python (the repo's virtualenv
holds the project's pins): benchmarks/plain_pipeline.py, then each bake's train.py on the same file.
Each process's wall time, CPU time (user and system, every thread) and peak memory (its largest
resident set) are read from the kernel as it ends. Writes a markdown table with the machine's facts
to benchmarks/TRAINING.md.
"""

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from run import markdown_table, paragraph, proc_value

REPO = Path(__file__).resolve().parent.parent
PLAIN = REPO / "benchmarks" / "plain_pipeline.py"
SIDES = ("plain", "before", "now")
# Rows, model, repetitions (the table shows medians), sides run. An SVM's fit grows with the square
# of the rows: it runs at 10,000 only. A million rows: one run; the forest's "before" (five fits on
# one core) takes about half an hour.
PLAN = [
    (10_000, "random_forest", 3, SIDES),
    (10_000, "logistic_regression", 3, SIDES),
    (10_000, "svm", 3, SIDES),
    (100_000, "random_forest", 3, SIDES),
    (100_000, "logistic_regression", 3, SIDES),
    (1_000_000, "random_forest", 1, SIDES),
    (1_000_000, "logistic_regression", 1, SIDES),
]


def mixed_csv(rows: int, path: Path) -> Path:
    """A classification that numbers, text and empty cells decide together."""
    rng = np.random.default_rng(0)
    numbers = rng.normal(size=(rows, 12))
    frame = pd.DataFrame(numbers, columns=[f"x{i}" for i in range(12)])
    frame.loc[rng.random(rows) < 0.05, "x3"] = np.nan
    frame["colour"] = rng.choice(["red", "green", "blue", "grey"], rows)
    frame["size"] = rng.choice(["S", "M", "L", ""], rows)  # "" is an empty cell in the CSV
    score = numbers[:, 0] + 0.5 * numbers[:, 1] - numbers[:, 2] * numbers[:, 4]
    score += (frame["colour"] == "red") + rng.normal(scale=0.7, size=rows)
    frame["label"] = np.select([score < -0.5, score < 0.8], ["low", "mid"], "high")
    frame.to_csv(path, index=False)
    return path


def bake(template: Path, output: Path) -> Path:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    command = [cookiecutter, "--no-input", "-o", str(output), str(template), "init_git=no"]
    subprocess.run(command, check=True, capture_output=True)
    return output / "my_project"


def template_at(revision: str, folder: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", revision], cwd=REPO, check=True, capture_output=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def measured(command: list, env: dict, log: Path) -> dict:
    """Wall seconds, CPU seconds and peak MB of one process, and the test accuracy that it
    printed."""
    start = time.perf_counter()
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    printed = log.read_text()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"`{' '.join(map(str, command))}` failed:\n{printed[-3000:]}")
    accuracy = float(re.search(r"[Tt]est accuracy:? (\d\.\d+)", printed).group(1))
    cpu = usage.ru_utime + usage.ru_stime
    return {"wall": wall, "cpu": cpu, "peak": usage.ru_maxrss / 1024, "accuracy": f"{accuracy:.4f}"}


def run_side(side: str, projects: dict, data: Path, model: str, scratch: Path) -> dict:
    if side == "plain":
        return measured(
            [sys.executable, PLAIN, data, "label", model], dict(os.environ), scratch / "log"
        )
    env = {**os.environ, "PYTHONHASHSEED": "0", "DATA": str(data), "TARGET": "label"}
    env |= {"MODEL_TYPE": model, "OUTPUT_DIR": str(scratch / "outputs")}
    env |= {"TRACKIO_DIR": str(scratch / "trackio"), "RUN_NAME": f"{side}-{time.time_ns()}"}
    result = measured([sys.executable, projects[side] / "train.py"], env, scratch / "log")
    shutil.rmtree(scratch / "outputs")  # a forest on a million rows is gigabytes
    shutil.rmtree(scratch / "trackio")
    return result


def cell(runs: list[dict]) -> str:
    if not runs:
        return "not run"
    wall, cpu, peak = (
        statistics.median(run[key] for run in runs) for key in ("wall", "cpu", "peak")
    )
    return f"{wall:.1f} s, {cpu:.1f} s, {peak:.0f} MB"


def ratio(runs: dict, key: str) -> str:
    if not runs["now"] or not runs["plain"]:
        return ""
    now, plain = (statistics.median(run[key] for run in runs[side]) for side in ("now", "plain"))
    return f"{now / plain:.2f}×"


def row(rows: int, model: str, runs: dict) -> list[str]:
    accuracies = sorted({run["accuracy"] for side in SIDES for run in runs[side]})
    same = ", ".join(accuracies) if len(accuracies) < 2 else "**differ**: " + ", ".join(accuracies)
    cells = [cell(runs[side]) for side in SIDES]
    return [f"{rows:,}", model, *cells, ratio(runs, "cpu"), ratio(runs, "peak"), same]


def report(table: list[list[str]], before: str, load: tuple[float, float]) -> str:
    header = ["rows", "model", "plain pipeline", "train.py before", "train.py now"]
    header += ["now ÷ plain, CPU", "now ÷ plain, peak", "test accuracy"]
    cpu = proc_value("/proc/cpuinfo", "model name")
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    return "\n".join(
        [
            "# What a training run costs",
            "",
            paragraph(
                "Written by `benchmarks/training.py`: the default project's `train.py`,"
                f" at the template's `{before}` (before) and in this checkout (now),"
                " against `benchmarks/plain_pipeline.py`, the seeded pipeline a student writes"
                " by hand (the same preparation of the columns, the same model, one fit,"
                " one score), all in one virtualenv on the host, one process at a time."
            ),
            "",
            f"- date: {date}; CPU: {cpu}, {os.cpu_count()} cores; Python {sys.version.split()[0]}",
            f"- load average (1 min) before and after: {load[0]:.2f}, {load[1]:.2f}",
            "- each cell: wall time, CPU time (every thread), peak memory (resident);"
            " medians of 3 runs, one run at 1,000,000 rows",
            "",
            markdown_table(header, table),
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="657dab6", help="the git revision to compare with")
    parser.add_argument("--rows", type=int, nargs="*", help="only these sizes of the plan")
    parser.add_argument("--repeat", type=int, help="runs of each, instead of the plan's")
    parser.add_argument("--models", nargs="*", help="only these models of the plan")
    parser.add_argument(
        "--sides", nargs="*", default=SIDES, choices=SIDES, help="only these columns"
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "TRAINING.md")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="repro-training-"))
    load_before = os.getloadavg()[0]
    table = []
    try:
        before = template_at(args.before, scratch / "template-before")
        projects = {"before": bake(before, scratch / "before"), "now": bake(REPO, scratch / "now")}
        for rows, model, repeat, sides in PLAN:
            if (args.rows and rows not in args.rows) or (args.models and model not in args.models):
                continue
            data = scratch / f"mixed-{rows}.csv"
            if not data.exists():
                mixed_csv(rows, data)
            runs = {side: [] for side in SIDES}
            for _ in range(args.repeat or repeat):
                for side in (side for side in sides if side in args.sides):
                    runs[side].append(run_side(side, projects, data, model, scratch))
            table.append(row(rows, model, runs))
            print(markdown_table(["rows", "model", *SIDES], [table[-1][:5]]), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = report(table, args.before, (load_before, os.getloadavg()[0]))
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
