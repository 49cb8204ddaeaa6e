"""The run as TrackIO's own command line reads it back from the store."""

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import FAST, project_copy, side_by_side

PROJECT = "{{ cookiecutter.project_slug }}"


def trackio_process(store: Path, *args: str) -> dict:
    """How to ask TrackIO's command line for a record of the store, as JSON."""
    command = [sys.executable, "-m", "trackio.cli", "get", *args, "--project", PROJECT, "--json"]
    return {"args": command, "env": {**os.environ, "TRACKIO_DIR": str(store)}}


def answer(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def trackio(store: Path, *args: str) -> dict:
    return answer(side_by_side({"get": trackio_process(store, *args)})["get"])


def anywhere_process(tmp_path: Path) -> dict:
    """python train.py with no TRACKIO_DIR nor OUTPUT_DIR, in a copy of the project,
    from another folder."""
    copy = project_copy(tmp_path)
    unset = ("TRACKIO_", "OUTPUT_DIR")
    env = {key: value for key, value in os.environ.items() if not key.startswith(unset)}
    env |= FAST | {"PYTHONHASHSEED": "0", "RUN_NAME": "anywhere"}
    env["HF_HOME"] = str(tmp_path / "huggingface")  # where TrackIO would put it otherwise
    return {"args": [sys.executable, str(copy / "train.py")], "env": env, "cwd": tmp_path}


@pytest.fixture(scope="module")
def read_back(recorded, tmp_path_factory) -> dict:
    """Side by side: TrackIO's command line reading the recorded run back, and a run started
    anywhere (see anywhere_process)."""
    store = recorded.parent / "trackio"
    return side_by_side(
        {
            "run": trackio_process(store, "run", "--run", "recorded"),
            "curve": trackio_process(
                store, "metric", "--run", "recorded", "--metric", "train/accuracy"
            ),
            "alerts": trackio_process(store, "alerts", "--run", "recorded"),
            "anywhere": anywhere_process(tmp_path_factory.mktemp("anywhere")),
        }
    )


def test_the_run_config_curve_results_picture_and_alert_are_in_trackio(read_back):
    run = answer(read_back["run"])
    assert run["config"]["seed"] == {{ cookiecutter.seed }}
    assert run["config"]["environment"]["data"]["task"] == "classification"
    logged = {"train/accuracy", "results", "per_class", "manifest", "confusion_matrix"}
    assert logged <= set(run["metrics"])
    curve = answer(read_back["curve"])["values"]
    assert [point["step"] for point in curve] == [1, 2, 3, 4, 5]
    assert all(0 < point["value"] <= 1 for point in curve)
    # OVERFIT_GAP=-1 makes any gap between train and test an alert.
    [alert] = answer(read_back["alerts"])["alerts"]
    assert alert["title"] == "Overfitting" and alert["level"].lower() == "warn"


def test_a_run_started_anywhere_goes_to_the_project_store_and_speaks_of_the_host(read_back):
    """The run is in the project's .trackio/, which make dashboard shows,
    and it names paths as seen from the project."""
    result = read_back["anywhere"]
    assert result.returncode == 0, result.stderr
    assert "Outputs in outputs/anywhere/, fingerprint " in result.stdout
    assert "trackio show" not in result.stdout
    assert result.stdout.count("make dashboard") == 1
    project_copy = Path(result.args[1]).parent  # where train.py ran from
    run = trackio(project_copy / ".trackio", "run", "--run", "anywhere")
    assert run["config"]["seed"] == {{ cookiecutter.seed }}
