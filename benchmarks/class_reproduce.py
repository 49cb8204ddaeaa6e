"""How long staff wait for a class: course/reproduce_class.py on a roster of student repositories,
one student at a time (the yardstick) and side by side (--jobs), in one run on the same machine.

Bakes the default project, trains and hands in one run, then makes --students repositories from it:
half as handed in, half with one more commit that changes requirements.txt (a second lock, so a
second image). Before each way, both images are removed, so that each way builds them again: the
first clone of each tag builds it, under a lock, and the others then find every layer in Docker's
cache. Writes a markdown table, with the machine's facts, to
benchmarks/CLASS.md. Needs make, Docker, git.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from run import machine_facts, markdown_table
from waits import bake, timed

REPO = Path(__file__).resolve().parents[1]
DOCKER = os.environ.get("DOCKER") or "/usr/bin/docker"
IDENTITY = ["-c", "user.name=Student", "-c", "user.email=student@example.com"]


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *IDENTITY, *args], cwd=folder, check=True, capture_output=True)


def students(starter: Path, folder: Path, count: int) -> Path:
    """count repositories of students, and a roster that names them."""
    lines = []
    for number in range(count):
        repo = folder / f"student{number:02d}"
        git(folder, "clone", "--quiet", str(starter), str(repo))
        if number % 2:
            with (repo / "requirements.txt").open("a") as requirements:
                requirements.write("# pinned as the starter has them\n")
            git(repo, "commit", "--quiet", "-am", "A note in requirements.txt")
        lines.append(f"student{number:02d} {repo}")
    roster = folder / "roster.txt"
    roster.write_text("\n".join(lines) + "\n")
    return roster


def images(project_name: str) -> list[str]:
    listed = [DOCKER, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", project_name]
    return subprocess.run(listed, capture_output=True, text=True, check=True).stdout.split()


def reproduce_class(roster: Path, work: Path, jobs: int, env: dict, project_name: str) -> list[str]:
    for image in images(project_name):
        subprocess.run([DOCKER, "image", "rm", "--force", image], capture_output=True, check=True)
    shutil.rmtree(work, ignore_errors=True)
    command = [sys.executable, str(REPO / "course" / "reproduce_class.py"), str(roster)]
    command += ["--work", str(work), "--out", str(work.with_suffix(".md")), "--jobs", str(jobs)]
    seconds = timed(command, roster.parent, env)
    summary = work.with_suffix(".md").read_text().splitlines()[2:]
    reproduced = sum(1 for line in summary if "| yes: " in line)
    way = "one at a time (yardstick)" if jobs == 1 else f"`--jobs {jobs}`"
    per_student = f"{seconds / len(summary):.1f} s"
    return [way, f"{seconds:.0f} s", per_student, f"{reproduced}/{len(summary)}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    env = {**os.environ, "DOCKER": DOCKER}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        name = f"bench class {os.getpid()}"
        starter = bake(REPO, folder / "starter", project_name=name)
        for target in (["image"], ["train", "RUN_NAME=forest"], ["submit", "RUN=forest"]):
            timed(["make", *target], starter, env)
        git(starter, "add", "results")
        git(starter, "commit", "--quiet", "-m", "Hand in forest")
        roster = students(starter, folder, args.students)
        rows = []
        for jobs in args.jobs:
            rows.append(reproduce_class(roster, folder / f"work{jobs}", jobs, env, starter.name))
        subprocess.run(["make", "clean"], cwd=starter, env=env, capture_output=True)
    facts = machine_facts(DOCKER, 1, load_before, os.getloadavg()[0])
    header = ["way", "whole class", "per student", "reproduced"]
    text = "\n".join(
        [
            "# Reproducing a class",
            "",
            "Written by `make bench-class` (`benchmarks/class_reproduce.py`): "
            f"{args.students} student repositories, half of them on a second lock, each with one "
            "run handed in (the default random forest on the digits); every way starts without "
            "the images: the first clone of each lock builds its image, the others wait for it and "
            "find every layer cached.",
            "",
            *facts,
            "",
            markdown_table(header, rows),
            "",
        ]
    )
    (REPO / "benchmarks" / "CLASS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
