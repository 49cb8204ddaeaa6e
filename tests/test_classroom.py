"""The GitHub Classroom option: its workflow's grader steps, run as written in fresh clones with
only PATH and HOME set, as the command grader runs them; and the workflows it lints clean."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from baked import Project, captured, committed, git
from conftest import DOCKER, bake, tool

GRADER = "classroom-resources/autograding-command-grader@v1"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"


def grader_steps(project: Path) -> list[dict]:
    workflow = yaml.safe_load((project / ".github/workflows/classroom.yml").read_text())
    [job] = workflow["jobs"].values()
    return [step for step in job["steps"] if step.get("uses") == GRADER]


def run_as_the_grader(folder: Path, step: dict) -> subprocess.CompletedProcess:
    """setup-command, then command, in a shell with nothing but PATH and HOME: the grader's docker
    is the first on its PATH (here Debian's, which does BuildKit builds)."""
    path = ":".join([str(Path(DOCKER).parent), os.environ["PATH"]])
    env = ["env", "-i", f"PATH={path}", f"HOME={folder.parent}"]
    script = " && ".join(filter(None, [step["with"]["setup-command"], step["with"]["command"]]))
    timeout = 60 * int(step["with"]["timeout"])
    command = [*env, "sh", "-c", script]
    return captured(command, cwd=folder, timeout=timeout)


def test_the_workflow_grades_build_reproduce_and_score_with_the_reporter(tmp_path):
    project = bake(tmp_path, project_name="Repro Classroom Yaml", include_classroom="yes")
    workflow = yaml.safe_load((project / ".github/workflows/classroom.yml").read_text())
    [job] = workflow["jobs"].values()
    steps = grader_steps(project)
    commands = [step["with"]["command"] for step in steps]
    assert commands == ["make image", "make grade-reproduce", "make grade-score"]
    for step in steps:
        inputs = {"test-name", "setup-command", "command", "timeout", "max-score"}
        assert set(step["with"]) >= inputs
    [reporter] = [step for step in job["steps"] if step.get("uses") == REPORTER]
    assert reporter["with"]["runners"].split(",") == [step["id"] for step in steps]
    assert set(reporter["env"]) == {f"{step['id'].upper()}_RESULTS" for step in steps}


def test_actionlint_and_zizmor_pass_on_every_generated_workflow(tmp_path):
    """Both workflows, through the project's make lint; zizmor still flags an unpinned action."""
    project = bake(tmp_path, project_name="Repro Classroom Lint", include_classroom="yes")
    tools = ":".join(str(Path(tool(name)).parent) for name in ("ruff", "actionlint", "zizmor"))
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    result = captured(["make", "lint"], cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "actionlint .github/workflows/ci.yml .github/workflows/classroom.yml\n" in result.stdout
    assert "zizmor --offline --quiet ." in result.stdout
    ci = project / ".github/workflows/ci.yml"
    pinned = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    ci.write_text(ci.read_text().replace(pinned, "actions/checkout@v4"))
    result = captured(["make", "lint"], cwd=project, env=env)
    assert result.returncode != 0 and "unpinned-uses" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def hand_in(tmp_path_factory):
    """A student of a Classroom course hands a run in and pushes it."""
    answers = {"project_name": "Repro Classroom", "include_classroom": "yes"}
    student = committed(tmp_path_factory.mktemp("cls"), **answers)
    student.make("train", "N_ESTIMATORS=10", "RUN_NAME=forest")
    student.hand_in("forest")
    yield student
    student.make("clean", check=False)


def fresh_clone(hand_in: Project, folder: Path) -> Path:
    return hand_in.clone(folder / "repo").path


@pytest.mark.docker
def test_every_grader_step_passes_on_a_good_hand_in(hand_in, tmp_path):
    clone = fresh_clone(hand_in, tmp_path)
    said = []
    for step in grader_steps(clone):
        result = run_as_the_grader(clone, step)
        said_all = f"{step['name']}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert result.returncode == 0, said_all
        said.append(result.stdout)
    assert "OK: run forest reproduced bit-identical" in said[1]
    assert "OK: run forest reproduced with 0." in said[2]
    assert "at least grading.toml's 0.9" in said[2]


@pytest.mark.docker
def test_a_raised_metric_fails_the_reproduce_and_score_steps(hand_in, tmp_path):
    clone = fresh_clone(hand_in, tmp_path)
    scores = clone / "results" / "forest" / "metrics.json"
    scores.write_text(json.dumps(json.loads(scores.read_text()) | {"test_accuracy": 0.999}))
    git(clone, "commit", "--quiet", "-am", "A better score")
    image, reproduce, score = (run_as_the_grader(clone, step) for step in grader_steps(clone))
    assert image.returncode == 0
    assert reproduce.returncode != 0 and "FAILED: run forest did not reproduce" in reproduce.stderr
    assert score.returncode != 0 and "error: no handed-in run reproduced" in score.stderr


@pytest.mark.docker
def test_a_reproduced_score_below_the_courses_minimum_fails_the_score_step(hand_in, tmp_path):
    clone = fresh_clone(hand_in, tmp_path)
    (clone / "grading.toml").write_text("min_score = 0.999\n")
    _, reproduce, score = (run_as_the_grader(clone, step) for step in grader_steps(clone))
    assert reproduce.returncode == 0
    assert score.returncode != 0 and "FAILED: the best" in score.stderr
    assert ", below 0.999" in score.stderr
