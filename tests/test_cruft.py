"""Course staff fix the template;
students receive the fix with `cruft update` and keep their own work."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from baked import captured, git
from conftest import REPO, tool

FIX = "A fix from the course staff."
STUDENT_EDIT = "# my own experiment\n"


def template_checkout(destination: Path) -> Path:
    """This template's files in a git repository of their own, as a course would fork it."""
    listed = git(REPO, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in listed:
        if (REPO / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, destination / name)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "-m", "Course template")
    return destination


def cruft(project: Path, *args: str) -> subprocess.CompletedProcess:
    return captured([tool("cruft"), *args], cwd=project, timeout=300)


def cookiecutter(cwd: Path, output: Path, template: str) -> None:
    """`cookiecutter --no-input template` in cwd, as a student types it."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output), template]
    env = {**os.environ, "PWD": str(cwd)}
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


def test_cruft_update_brings_a_fix_and_keeps_the_students_edit(tmp_path):
    template = template_checkout(tmp_path / "template")
    first_commit = git(template, "rev-parse", "HEAD").strip()
    cookiecutter(tmp_path, tmp_path / "out", str(template))
    project = tmp_path / "out" / "my_project"
    record = json.loads((project / ".cruft.json").read_text())
    assert record["template"] == str(template) and record["commit"] == first_commit
    assert record["context"]["cookiecutter"]["seed"] == "42"
    assert ".cruft.json" in git(project, "ls-files")
    assert cruft(project, "check").returncode == 0

    train = project / "train.py"
    train.write_text(train.read_text() + STUDENT_EDIT)
    git(project, "commit", "--quiet", "-am", "My experiment")

    readme = template / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + f"\n{FIX}\n")
    git(template, "commit", "--quiet", "-am", "Fix the README")
    assert cruft(project, "check").returncode != 0

    result = cruft(project, "update", "--skip-apply-ask")
    assert result.returncode == 0, result.stdout + result.stderr
    assert FIX in (project / "README.md").read_text()
    assert train.read_text().endswith(STUDENT_EDIT)
    assert (
        json.loads((project / ".cruft.json").read_text())["commit"]
        == git(template, "rev-parse", "HEAD").strip()
    )
    assert cruft(project, "check").returncode == 0


def test_a_project_baked_from_a_relative_path_can_be_updated(tmp_path):
    """`cookiecutter .` and `cookiecutter ../template`, as the README shows,
    record where the template is."""
    template = template_checkout(tmp_path / "template")
    for cwd, argument in ((template, "."), (tmp_path, "template")):
        output = tmp_path / f"out-{argument.strip('.') or 'dot'}"
        cookiecutter(cwd, output, argument)
        record = json.loads((output / "my_project" / ".cruft.json").read_text())
        assert (
            record["template"] == str(template)
            and record["commit"] == git(template, "rev-parse", "HEAD").strip()
        )
        assert cruft(output / "my_project", "check").returncode == 0
