"""The run as TrackIO's own command line reads it back from the store."""

import json
import os
import subprocess
import sys
from pathlib import Path

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
