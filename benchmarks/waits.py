"""The student's waits in the generated project, now and at an earlier commit of the template, side
by side.

Bakes the default (scikit-learn) project from this checkout and from `--before` (a git revision,
checked out into a temporary worktree), builds each image, then times, on the same machine and in
turn:
- `make train`, `make verify` and `make test`, in the container, as a student runs them;
- the PyTorch project's own tests, `python -m pytest` in the CPU virtualenv that `make test` keeps
  in build/torch-venv (the PyTorch image needs torch's CUDA build from PyPI, several GB).
Writes a markdown table, with the machine's facts, to benchmarks/WAITS.md. Needs make, Docker,
git.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import markdown_table, paragraph, proc_value

REPO = Path(__file__).resolve().parents[1]
TORCH_PYTHON = REPO / "build" / "torch-venv" / "bin" / "python"
# The settings given to each command, as the goals were measured: the project's defaults.
COMMANDS = [("make train", ["train"]), ("make verify", ["verify"]), ("make test", ["test"])]
GOALS = {
    "make train": "≤ 4 s",
    "make verify": "≤ 8 s",
    "make test": "≤ 30 s",
    "PyTorch tests": "≤ 45 s",
}


def bake(template: Path, output: Path, **answers: str) -> Path:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    settings = [f"{key}={value}" for key, value in {"init_git": "yes", **answers}.items()]
    subprocess.run(
        [cookiecutter, "--no-input", "-o", str(output), str(template), *settings],
        check=True,
        capture_output=True,
    )
    [project] = [path for path in output.iterdir() if path.is_dir()]
    return project


def timed_run(command: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    """The seconds that the command took, and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(
            f"`{' '.join(command)}` failed in {cwd}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return time.perf_counter() - start, done.stdout


def timed(command: list[str], cwd: Path, env: dict) -> float:
    """The seconds that the command took."""
    seconds, _ = timed_run(command, cwd, env)
    return seconds


def tests_passed(printed: str) -> int | None:
    """The number of tests in pytest's summary line; None for a command that ran none."""
    summary = re.search(r"(\d+) passed", printed)
    return int(summary.group(1)) if summary else None


def median_wait(runs: list[tuple[float, str]]) -> str:
    """The median of the runs' seconds, and how many tests the last run passed, if it ran any."""
    seconds = f"{statistics.median(elapsed for elapsed, _ in runs):.1f} s"
    passed = tests_passed(runs[-1][1])
    return seconds if passed is None else f"{seconds}, {passed} passed"


def measure(template: Path, workdir: Path, name: str, repeat: int, env: dict) -> dict[str, str]:
    project = bake(template, workdir / name, project_name=f"waits {name} {os.getpid()}")
    timed(["make", "image"], project, env)
    runs = {
        label: [timed_run(["make", *command], project, env) for _ in range(repeat)]
        for label, command in COMMANDS
    }
    pytorch = bake(template, workdir / f"{name}-pytorch", framework="pytorch", init_git="no")
    torch_env = {**env, "PYTHONHASHSEED": "0"}
    pytest_command = [str(TORCH_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    runs["PyTorch tests"] = [timed_run(pytest_command, pytorch, torch_env)]
    subprocess.run(["make", "clean"], cwd=project, env=env, capture_output=True)
    return {label: median_wait(values) for label, values in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="657dab6", help="the git revision to compare with")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each make command; the table shows the median",
    )
    args = parser.parse_args()
    if not TORCH_PYTHON.exists():
        sys.exit("build/torch-venv is missing: `make test` makes it (tests/test_pytorch.py)")
    env = {**os.environ, "DOCKER": os.environ.get("DOCKER", "/usr/bin/docker")}
    for variable in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
        env.pop(variable, None)
    workdir = Path(tempfile.mkdtemp(prefix="repro-waits-"))
    before_tree = workdir / "template-before"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(before_tree), args.before],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    load_before = os.getloadavg()[0]
    try:
        before = measure(before_tree, workdir, "before", args.repeat, env)
        now = measure(REPO, workdir, "now", args.repeat, env)
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(before_tree)],
            cwd=REPO,
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)
    rows = [[label, before[label], now[label], GOALS[label]] for label in GOALS]
    cpu = proc_value("/proc/cpuinfo", "model name")
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    text = "\n".join(
        [
            "# The student's waits",
            "",
            paragraph(
                "Written by `make bench-waits` (`benchmarks/waits.py`): the default project's"
                " commands in its container, and the PyTorch project's tests in a CPU"
                " virtualenv, baked from this checkout and from an earlier one."
            ),
            "",
            f"- date: {date}; CPU: {cpu}, {os.cpu_count()} cores",
            f"- before: the template at `{args.before}`; now: this checkout;"
            f" each time a median of {args.repeat} runs",
            f"- load average (1 min) before and after: {load_before:.2f}, {os.getloadavg()[0]:.2f}",
            "",
            markdown_table(["", "before", "now", "goal"], rows),
            "",
        ]
    )
    print(text)
    (REPO / "benchmarks" / "WAITS.md").write_text(text)


if __name__ == "__main__":
    main()
