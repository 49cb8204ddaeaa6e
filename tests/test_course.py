"""From a student's run to a grade, on a real engine: compare runs, hand one in, and reproduce it
from a fresh clone, one repository at a time and for a whole class."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from baked import HANDED_IN, captured, committed, git, read_store
from conftest import DOCKER, REPO

pytestmark = pytest.mark.docker

# a name of its own: the tests remove this project's images, and no one else's
PROJECT = "repro_course"
FAST = "N_ESTIMATORS=10"
RUNS = {
    "forest": ["MODEL_TYPE=random_forest", "SEED=42"],
    "svm-seed3": ["MODEL_TYPE=svm", "SEED=3", "GROUP=svms"],
}


def metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    """A student's project with two runs of different configs, made from a clean, committed tree."""
    student = committed(tmp_path_factory.mktemp("student"), project_name="Repro Course")
    for name, settings in RUNS.items():
        student.make("train", FAST, *settings, f"RUN_NAME={name}")
    yield student
    student.make("clean", check=False)


def test_compare_shows_both_runs_best_first_with_the_settings_that_differ(student):
    result = student.make("compare")
    lines = [line for line in result.stdout.splitlines() if line.startswith("|")]
    metrics_header = (
        "test_accuracy | test_f1_macro | baseline_accuracy | baseline_f1_macro | overfit_gap"
    )
    header = f"| run | group | model_type | seed | {metrics_header} | train_accuracy |"
    # N_ESTIMATORS, the same in both, is left out
    assert lines[0] == header + " fingerprint | dirty |"
    by_score = sorted(
        RUNS, key=lambda run: -metrics(student.path / "outputs" / run)["test_accuracy"]
    )
    assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:]] == by_score
    for line in lines[2:]:
        run = line.split(" | ")[0].removeprefix("| ")
        record = student.manifest(run)
        assert f"| {record['result']['metrics']['test_accuracy']:.4f} |" in line
        assert line.endswith(f"| {record['result']['fingerprint'][:12]} | no |")
    assert (student.path / "outputs" / "compare.md").read_text() in result.stdout
    with read_store(student.path / ".trackio" / f"{PROJECT}.db") as store:
        [report] = store.execute(
            "SELECT metrics FROM metrics WHERE run_name = 'compare'"
        ).fetchall()
        models = dict(store.execute("SELECT name, type FROM artifacts").fetchall())
        groups = dict(
            store.execute(
                "SELECT run_name, json_extract(config, '$._Group') FROM configs"
            ).fetchall()
        )
    logged = json.loads(report[0])["reports/compare"]
    assert (
        logged["_type"] == "trackio.markdown"
        and "| svm-seed3 | svms | svm | 3 |" in logged["_value"]
    )
    # each trained model, as an artifact of its run
    assert models == {f"{run}-model": "model" for run in RUNS}
    assert groups["svm-seed3"] == "svms" and groups["forest"] is None


def test_a_run_from_a_dirty_tree_is_refused(student):
    (student.path / "notes.txt").write_text("an uncommitted file makes the tree dirty\n")
    try:
        student.make("train", FAST, "RUN_NAME=dirty")
        result = student.fails("submit", "RUN=dirty")
    finally:
        (student.path / "notes.txt").unlink()
    assert (
        "error: run dirty was made from uncommitted changes: commit, train again" in result.stderr
    )
    assert "Traceback" not in result.stderr and not (student.path / "results" / "dirty").exists()


def test_submit_names_a_missing_run_in_one_line(student):
    result = student.fails("submit", "RUN=no-such-run")
    assert "Traceback" not in result.stderr
    assert "error: no run 'no-such-run' in outputs/ to hand in: RUN= names one of" in result.stderr


@pytest.fixture(scope="module")
def handed_in(student, tmp_path_factory):
    """The student hands the forest run in and commits it; staff clone the repository afresh."""
    said = student.hand_in("forest")
    assert "OK: run forest reproduced bit-identical" in said
    assert "Now commit it: git add results" in said
    assert sorted(path.name for path in (student.path / "results/forest").iterdir()) == HANDED_IN
    return student.clone(tmp_path_factory.mktemp("staff") / PROJECT)


def test_staff_reproduce_a_handed_in_run_from_a_fresh_clone(handed_in):
    assert not (handed_in.path / "outputs").exists()  # git carries results/, never outputs/
    handed_in.make("image")
    result = handed_in.make("reproduce", "RUN=forest")
    assert "OK: run forest reproduced bit-identical" in result.stdout
    # HEAD is the hand-in commit, one after the run's: the same code,
    # so a note rather than a warning.
    assert "note: HEAD is not" in result.stderr and "its code is the same" in result.stderr
    assert "warning" not in result.stderr


@pytest.mark.parametrize("tampered", ["metrics.json", "manifest.json", "predictions.csv"])
def test_a_changed_hand_in_fails_to_reproduce(handed_in, tampered):
    name = f"results/forest/{tampered}"
    original = handed_in.read(name)
    if tampered == "predictions.csv":
        header, first, *rest = original.splitlines()
        row, true, predicted = first.split(",")
        changed = "\n".join([header, f"{row},{true},{(int(predicted) + 1) % 10}", *rest]) + "\n"
    else:
        record = json.loads(original)
        scores = record["result"]["metrics"] if tampered == "manifest.json" else record
        scores["test_accuracy"] = round(scores["test_accuracy"] + 0.05, 4)
        changed = json.dumps(record, indent=2)
    with handed_in.edited(name, changed):
        result = handed_in.fails("reproduce", "RUN=forest")
    assert "FAILED: run forest did not reproduce:" in result.stderr
    expected = "predictions: 1 rows differ" if tampered == "predictions.csv" else "test_accuracy:"
    assert expected in result.stderr


def test_a_class_is_reproduced_in_one_table(handed_in, tmp_path):
    """One student whose hand-in reproduces, one whose metric was raised after the run,
    one with none."""
    cheat = tmp_path / "cheat"
    git(tmp_path, "clone", "--quiet", str(handed_in.path), str(cheat))
    scores = cheat / "results" / "forest" / "metrics.json"
    scores.write_text(json.dumps(metrics(scores.parent) | {"test_accuracy": 0.999}))
    git(cheat, "commit", "--quiet", "-am", "A better score")
    empty = tmp_path / "empty"
    git(tmp_path, "init", "--quiet", str(empty))
    git(empty, "commit", "--quiet", "--allow-empty", "-m", "Nothing yet")
    roster = tmp_path / "roster.txt"
    roster.write_text(f"# the class\nada {handed_in.path}\nbob {cheat}\n\ncyd {empty}\n")
    summary, gradebook = tmp_path / "summary.md", tmp_path / "gradebook.csv"
    options = ["--out", str(summary), "--csv", str(gradebook), "--jobs", "3"]
    result = reproduce_class(roster, tmp_path / "work", *options)
    assert result.returncode == 1, result.stderr  # not every run reproduced
    rows = {
        line.split(" | ")[0].removeprefix("| "): line
        for line in summary.read_text().splitlines()[2:]
    }
    assert set(rows) == {"ada", "bob", "cyd"} and summary.read_text() in result.stdout
    assert (
        "| forest |" in rows["ada"] and "| yes: run forest reproduced bit-identical" in rows["ada"]
    )
    assert (
        "| accuracy 0.9990 |" in rows["bob"]
        and "| NO: run forest did not reproduce:" in rows["bob"]
    )
    assert "metrics.json test_accuracy: 0.999 !=" in rows["bob"]
    assert "NO: nothing handed in" in rows["cyd"]
    with gradebook.open(newline="") as file:
        graded = {line["student"]: line for line in csv.DictReader(file)}
    assert list(graded) == ["ada", "bob", "cyd"]  # the roster's order, though three ran at once
    assert graded["ada"]["reproduced"] == "yes" and graded["bob"]["reproduced"] == "no"
    assert graded["ada"]["metric"] == "accuracy" and float(graded["bob"]["score"]) == 0.999
    assert graded["cyd"]["run"] == "" and graded["cyd"]["outcome"].startswith("nothing handed in")


def reproduce_class(roster: Path, work: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(REPO / "course" / "reproduce_class.py"), str(roster)]
    command += ["--work", str(work), *options]
    env = {**os.environ, "DOCKER": DOCKER}
    return captured(command, timeout=1800, env=env)


def test_one_student_graded_in_gradescopes_format(handed_in, tmp_path):
    roster = tmp_path / "roster.txt"
    roster.write_text(f"ada {handed_in.path}\n")
    results = tmp_path / "results.json"
    options = ["--out", str(tmp_path / "s.md"), "--gradescope", str(results)]
    result = reproduce_class(roster, tmp_path / "work", *options)
    assert result.returncode == 0, result.stderr
    graded = json.loads(results.read_text())
    assert set(graded) == {"score", "execution_time", "output", "tests", "leaderboard"}
    [test] = graded["tests"]
    assert test["name"] == "run forest reproduces" and test["status"] == "passed"
    assert test["score"] == test["max_score"] == graded["score"] == 1
    assert test["output"].startswith("yes: run forest reproduced bit-identical")
    accuracy = metrics(handed_in.path / "results" / "forest")["test_accuracy"]
    assert graded["leaderboard"] == [{"name": "test score", "value": accuracy, "order": "desc"}]
    roster.write_text(f"ada {handed_in.path}\nbob {handed_in.path}\n")
    refused = reproduce_class(roster, tmp_path / "work", "--gradescope", str(results))
    assert refused.returncode != 0 and "error: --gradescope grades one student" in refused.stderr
