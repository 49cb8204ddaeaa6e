"""The run as TrackIO's own command line reads it back from the store."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import FAST, PROJECT_DIR

PROJECT = "{{ cookiecutter.project_slug }}"


def trackio(store: Path, *args: str):
    command = [sys.executable, "-m", "trackio.cli", "get", *args, "--project", PROJECT, "--json"]
    env = {**os.environ, "TRACKIO_DIR": str(store)}
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_run_config_curve_results_picture_and_alert_are_in_trackio(recorded):
    store = recorded.parent / "trackio"
    run = trackio(store, "run", "--run", "recorded")
    assert run["config"]["seed"] == {{ cookiecutter.seed }}
    assert run["config"]["environment"]["data"]["task"] == "classification"
    logged = {"train/accuracy", "results", "per_class", "manifest", "confusion_matrix"}
    assert logged <= set(run["metrics"])
    curve = trackio(store, "metric", "--run", "recorded", "--metric", "train/accuracy")["values"]
    assert [point["step"] for point in curve] == [1, 2, 3, 4, 5]
    assert all(0 < point["value"] <= 1 for point in curve)
    # OVERFIT_GAP=-1 makes any gap between train and test an alert.
    [alert] = trackio(store, "alerts", "--run", "recorded")["alerts"]
    assert alert["title"] == "Overfitting" and alert["level"].lower() == "warn"


def test_a_run_started_anywhere_goes_to_the_project_store_and_speaks_of_the_host(tmp_path):
    """python train.py with no TRACKIO_DIR nor OUTPUT_DIR, from another folder: the run is in the
    project's .trackio/, which make dashboard shows, and it names paths as seen from the project."""
    copy = tmp_path / "project"
    ignored = shutil.ignore_patterns("outputs", ".trackio", ".git", ".venv")
    shutil.copytree(PROJECT_DIR, copy, ignore=ignored)
    unset = ("TRACKIO_", "OUTPUT_DIR")
    env = {key: value for key, value in os.environ.items() if not key.startswith(unset)}
    env |= FAST | {"PYTHONHASHSEED": "0", "RUN_NAME": "anywhere"}
    env["HF_HOME"] = str(tmp_path / "huggingface")  # where TrackIO would put it otherwise
    command = [sys.executable, str(copy / "train.py")]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Outputs in outputs/anywhere/, fingerprint " in result.stdout
    assert "trackio show" not in result.stdout
    assert result.stdout.count("make dashboard") == 1
    run = trackio(copy / ".trackio", "run", "--run", "anywhere")
    assert run["config"]["seed"] == {{ cookiecutter.seed }}
