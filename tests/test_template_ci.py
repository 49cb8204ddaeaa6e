"""The template's own CI workflow runs what `.ci/run` runs: the lint, then the same test command as
the README, which runs every test; and in CI a skipped test fails the run."""

import os
import shutil
import sys

import yaml
from baked import captured
from conftest import REPO

SKIPPING_TEST = """import pytest


def test_without_its_tool():
    pytest.skip("a tool is missing")
"""


def test_the_template_workflow_lints_and_runs_every_test():
    # A workflow runs only on GitHub: reading its steps is the one test of them that runs here.
    workflow = yaml.safe_load((REPO / ".github/workflows/test.yml").read_text())
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    [job] = workflow["jobs"].values()
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs[-2:] == ["make lint", "make test"]
    assert job["env"]["CI"] == "true"  # so that a skipped test fails the run, as in .ci/run
    # The README is prose and .ci/run needs root and apt: their words are what can be checked.
    assert "make test" in (REPO / "README.md").read_text()
    assert "make test" in (REPO / ".ci/run").read_text()
    # What the workflow's `make test` runs, as make would run it: pytest with no marker left out.
    dry_run = ["make", "--dry-run", "test"]
    planned = captured(dry_run, cwd=REPO, check=True)
    assert planned.stdout.splitlines()[-1] == ".venv/bin/python -m pytest"


def test_in_ci_a_skipped_test_fails_the_run(tmp_path):
    """The suite's own rule (conftest.py), on a test that skips: passed outside CI, failed in it."""
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path)
    (tmp_path / "test_skips.py").write_text(SKIPPING_TEST)
    outside = {name: value for name, value in os.environ.items() if name != "CI"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    here = captured(command, cwd=tmp_path, env=outside)
    assert here.returncode == 0, here.stdout
    assert "1 skipped" in here.stdout
    in_ci_env = outside | {"CI": "true"}
    in_ci = captured(command, cwd=tmp_path, env=in_ci_env)
    assert in_ci.returncode == 1, in_ci.stdout
    said = "CI must run every test, but 1 skipped: test_skips.py::test_without_its_tool"
    assert said in in_ci.stdout
