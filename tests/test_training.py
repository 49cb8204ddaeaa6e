"""The forest fits on every core and is still the same model: a run on one core and a run on two
give one model hash and one fingerprint, and the curve grows the forest step by step. An SVM on many
rows warns before its long fit. Runs the baked project's train.py in this virtualenv, pinned to
cores by taskset."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from baked import read_store
from conftest import REPO, bake

sys.path.insert(0, str(REPO / "benchmarks"))
from training import mixed_csv  # noqa: E402 (benchmarks/ is no package)

PROJECT = "training_cores"
# taskset pins train.py to cores (util-linux; outside CI a test without it skips,
# and in CI a skip fails).
pytestmark = pytest.mark.skipif(
    shutil.which("taskset") is None, reason="taskset is not installed: apt-get install util-linux"
)


def training(project: Path, tmp_path: Path, name: str, cores: str, **settings: str) -> dict:
    """The arguments of a Popen that runs train.py on the mixed CSV, pinned to cores."""
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "DATA": str(tmp_path / "mixed.csv"),
        "TARGET": "label",
    }
    env |= {"OUTPUT_DIR": str(tmp_path / "outputs"), "TRACKIO_DIR": str(tmp_path / "trackio")}
    env |= {"RUN_NAME": name, "N_ESTIMATORS": "40", **settings}
    return {
        "args": ["taskset", "-c", cores, sys.executable, "train.py"],
        "cwd": project,
        "env": env,
    }


def result(tmp_path: Path, name: str) -> dict:
    return json.loads((tmp_path / "outputs" / name / "manifest.json").read_text())["result"]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_one_core_and_two_cores_give_one_model_and_the_curve_grows_the_forest(tmp_path):
    project = bake(tmp_path, project_name="training cores")
    mixed_csv(3000, tmp_path / "mixed.csv")
    first, second = sorted(os.sched_getaffinity(0))[:2]
    two = f"{first},{second}"
    runs = {"one-core": (str(first), {}), "two-cores": (two, {}), "two-jobs": (two, {"JOBS": "2"})}
    for name, (pinned, settings) in runs.items():
        done = subprocess.run(
            **training(project, tmp_path, name, pinned, **settings), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    results = {name: result(tmp_path, name) for name in runs}
    hashes = {name: (got["model_sha256"], got["fingerprint"]) for name, got in results.items()}
    assert len(set(hashes.values())) == 1, hashes
    steps = [line.split(":")[0] for line in done.stdout.splitlines() if line.startswith("step ")]
    assert steps == [f"step {step}/5" for step in range(1, 6)]
    assert "step 1/5: 8 trees, 2400 training rows" in done.stdout
    with read_store(tmp_path / "trackio" / f"{PROJECT}.db") as store:
        curve = store.execute(
            """SELECT step, json_extract(metrics, '$."test/accuracy"') FROM metrics
               WHERE run_name = 'two-jobs'
                 AND json_extract(metrics, '$."train/accuracy"') IS NOT NULL
               ORDER BY step"""
        ).fetchall()
    assert [step for step, _ in curve] == [1, 2, 3, 4, 5] and all(
        0 < value <= 1 for _, value in curve
    )
    assert curve[-1][1] == results["two-jobs"]["metrics"]["test_accuracy"]


def test_an_svm_on_many_rows_warns_before_it_fits(tmp_path):
    project = bake(tmp_path, project_name="training svm warning")
    mixed_csv(26_000, tmp_path / "mixed.csv")
    cores = ",".join(map(str, sorted(os.sched_getaffinity(0))))
    arguments = training(project, tmp_path, "slow-svm", cores, MODEL_TYPE="svm")
    with subprocess.Popen(
        **arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as run:
        try:
            line = next(line for line in run.stderr if line.startswith("warning:"))
        finally:
            run.kill()
    slow = "warning: an SVM on 20800 training rows may take many minutes"
    assert line.strip() == f"{slow}: MODEL_TYPE=logistic_regression is much faster"
