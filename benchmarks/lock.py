"""What the full lock costs a student: image builds and relocks, now and at an earlier commit.

Bakes the default project from this checkout and from `--before` (a git revision, checked out into a
temporary worktree), then times, on the same machine and in turn, the median of `--repeat` runs of:
- cold build: `make image BUILD_FLAGS=--no-cache` (the download cache warm, as on a second build);
- requirements rebuild: `make image` after a package is added (before: to requirements.txt; now: to
  requirements.in, so the time includes the relock);
- relock: `make lock` with nothing changed (now only: before, the default project had no lock);
- no-op: `make image` with nothing changed.
Writes a markdown table, with the machine's facts, to benchmarks/LOCK.md. Needs make, Docker, git.
"""

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from run import markdown_table, proc_value
from waits import bake, timed

REPO = Path(__file__).resolve().parents[1]
ADDED = "six==1.17.0"
ROWS = ["cold build", "requirements rebuild", "relock", "no-op make image"]


def add_requirement(project: Path, round_number: int) -> None:
    """A package added as a student adds one: to requirements.in where there is one."""
    source = project / "requirements.in"
    if not source.exists():
        source = project / "requirements.txt"
    with source.open("a") as requirements:
        requirements.write(f"{ADDED}  # round {round_number}\n")


def measure(template: Path, workdir: Path, name: str, repeat: int, env: dict) -> dict[str, float]:
    project = bake(template, workdir / name, project_name=f"lock bench {name}")
    timed(["make", "image"], project, env)
    seconds: dict[str, list[float]] = {row: [] for row in ROWS}
    for round_number in range(repeat):
        seconds["cold build"].append(
            timed(["make", "image", "BUILD_FLAGS=--no-cache"], project, env)
        )
        add_requirement(project, round_number)
        seconds["requirements rebuild"].append(timed(["make", "image"], project, env))
        if (project / "requirements.in").exists() and (project / "scripts" / "lock.py").exists():
            seconds["relock"].append(timed(["make", "lock"], project, env))
        seconds["no-op make image"].append(timed(["make", "image"], project, env))
    subprocess.run(["make", "clean"], cwd=project, env=env, capture_output=True)
    return {row: statistics.median(values) for row, values in seconds.items() if values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="657dab6", help="the earlier commit to compare with")
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    env = {**__import__("os").environ, "DOCKER": "/usr/bin/docker"}
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        before = workdir / "before-template"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), arguments.before],
            cwd=REPO,
            check=True,
        )
        try:
            old = measure(before, workdir, "before", arguments.repeat, env)
            new = measure(REPO, workdir, "now", arguments.repeat, env)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(before)], cwd=REPO, check=True
            )
    rows = [
        [row, f"{old[row]:.2f} s" if row in old else "no lock", f"{new[row]:.2f} s"]
        + [f"{new[row] / old[row]:.2f}×" if row in old else ""]
        for row in ROWS
    ]
    table = markdown_table(["", arguments.before, "now", "now ÷ before"], rows)
    machine = f"{proc_value('/proc/cpuinfo', 'model name')}, {__import__('os').cpu_count()} cores"
    heading = "# The full lock: builds and relocks\n\n"
    text = f"{heading}Machine: {machine}. Medians of {arguments.repeat}.\n\n{table}\n"
    (REPO / "benchmarks" / "LOCK.md").write_text(text + "\n" + __doc__)
    print(text)


if __name__ == "__main__":
    main()
