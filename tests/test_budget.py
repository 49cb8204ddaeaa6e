"""A student reads the generated project end to end: its size stays within these budgets."""

import re
from pathlib import Path

import pytest
from baked import captured
from conftest import bake

CODE = {".py", ".sh", ".mk", ".Dockerfile"}  # notebook.Dockerfile
CODE_NAMES = {"Makefile", "Dockerfile"}
# The files that hold the Makefile's logic, and the scripts' Python: no line over 100 characters.
NARROW = {".sh", ".mk", ".Dockerfile"} | CODE_NAMES
WIDEST = 100


def code_lines(project: Path, tests: bool = False) -> dict[str, int]:
    """Non-blank lines (comments count) of each Python, shell, Makefile and Dockerfile file."""
    counts = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        is_code = path.is_file() and (path.suffix in CODE or path.name in CODE_NAMES)
        if is_code and (relative.parts[0] == "tests") == tests and ".git" not in relative.parts:
            counts[str(relative)] = sum(1 for line in path.read_text().splitlines() if line.strip())
    return counts


def lines_where(project: Path, paths: list[Path], bad) -> list[str]:
    """path:number of each line of these files that bad(line) finds."""
    return [
        f"{path.relative_to(project)}:{number}"
        for path in paths
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if bad(line)
    ]


def wide(line: str) -> bool:
    return len(line) > WIDEST


@pytest.mark.parametrize("lab", ["no", "yes"])
@pytest.mark.parametrize("framework", ["scikit-learn", "pytorch"])
def test_the_project_reads_easily(tmp_path, framework, lab):
    # With the lab tools come the other options too, so that every Python file is read.
    options = {"include_classroom": lab, "include_notebooks": lab}
    project = bake(tmp_path, framework=framework, include_lab_tools=lab, **options)
    counts = code_lines(project)
    python = {
        name: count for name, count in counts.items() if name.endswith(".py") and "/" not in name
    }
    # the file a student edits is the biggest
    assert python["train.py"] >= max(python.values()), python
    narrow = [path for path in project.rglob("*") if {path.suffix, path.name} & NARROW]
    assert lines_where(project, narrow, wide) == []
    python_files = sorted(project.rglob("*.py"))  # tests and options' files included
    assert lines_where(project, python_files, wide) == []
    assert lines_where(project, python_files, lambda line: ":=" in line) == []  # one idea per line
    dockerfile = (project / "Dockerfile").read_text()
    assert dockerfile.count("uv pip sync --require-hashes") == 1  # one installer, uv, from the lock
    makefile = (project / "Makefile").read_text()
    assert (
        "$(MAKE)" not in makefile + (project / "lab.mk").read_text() if lab == "yes" else makefile
    )


def test_make_help_lists_the_targets_of_a_students_day(tmp_path):
    """Eleven for the work itself (lock among them),
    and two that close the loop from a run to a grade."""
    project = bake(tmp_path)
    listed = captured(["make", "help"], cwd=project, check=True).stdout
    targets = re.findall(r"^  ([a-z-]+) +\[(?:host|container)\]", listed, flags=re.MULTILINE)
    assert targets == [
        "image",
        "lock",
        "train",
        "verify",
        "reproduce",
        "compare",
        "submit",
        "dashboard",
        "shell",
        "test",
        "lint",
        "train-local",
        "clean",
    ]
