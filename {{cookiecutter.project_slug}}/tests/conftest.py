import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
# A smaller run: the same pipeline, store and fingerprints as a full one, in less time.
FAST = {{ '{"EPOCHS": "5"}' if cookiecutter.framework == "pytorch" else '{"N_ESTIMATORS": "10"}' }}


def script_env(tmp_path: Path, settings: dict) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0", "OUTPUT_DIR": str(tmp_path / "outputs")}
    return env | FAST | settings | {"TRACKIO_DIR": str(tmp_path / "trackio")}


def project_copy(tmp_path: Path) -> Path:
    """A copy of the project in tmp_path, without its runs, store, git history or virtualenv."""
    copy = tmp_path / "project"
    ignored = shutil.ignore_patterns("outputs", ".trackio", ".git", ".venv")
    shutil.copytree(PROJECT_DIR, copy, ignore=ignored)
    return copy


def script_process(
    tmp_path: Path, script: str, *args: str, project_dir: Path = PROJECT_DIR, **settings: str
) -> dict:
    """How to run one of the project's scripts in a fresh process,
    with its outputs and TrackIO store in tmp_path: the arguments of subprocess.run."""
    command = [sys.executable, str(project_dir / script), *args]
    return {"args": command, "env": script_env(tmp_path, settings)}


def side_by_side(processes: dict[str, dict]) -> dict[str, subprocess.CompletedProcess]:
    """Run the processes at once and wait for them all: most of a process's time is importing
    its libraries on one core, so a few processes side by side take the time of one or two."""
    captured = {"capture_output": True, "text": True, "timeout": 300}
    with ThreadPoolExecutor(len(processes)) as pool:
        futures = {
            name: pool.submit(subprocess.run, **process, **captured)
            for name, process in processes.items()
        }
    return {name: future.result() for name, future in futures.items()}


def run_script(
    tmp_path: Path, script: str, *args: str, project_dir: Path = PROJECT_DIR, **settings: str
) -> subprocess.CompletedProcess:
    """Run one of the project's scripts in a fresh process,
    with its outputs and TrackIO store in tmp_path."""
    process = script_process(tmp_path, script, *args, project_dir=project_dir, **settings)
    return side_by_side({script: process})[script]


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Path:
    """Two runs side by side, shared by the tests that only read what they left:
    `recorded`, as the project is (OVERFIT_GAP=-1 makes any gap an alert),
    and `other-seed`, with SEED=1."""
    tmp_path = tmp_path_factory.mktemp("recorded")
    runs = {"recorded": {"OVERFIT_GAP": "-1"}, "other-seed": {"SEED": "1"}}
    processes = {
        name: script_process(tmp_path, "train.py", RUN_NAME=name, **settings)
        for name, settings in runs.items()
    }
    for result in side_by_side(processes).values():
        assert result.returncode == 0, result.stderr
    return tmp_path / "outputs"
