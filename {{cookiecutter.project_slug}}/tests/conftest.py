import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
# A smaller run: the same pipeline, store and fingerprints as a full one, in less time.
FAST = {{ '{"EPOCHS": "5"}' if cookiecutter.framework == "pytorch" else '{"N_ESTIMATORS": "10"}' }}


def script_env(tmp_path: Path, settings: dict) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0", "OUTPUT_DIR": str(tmp_path / "outputs")}
    return env | FAST | settings | {"TRACKIO_DIR": str(tmp_path / "trackio")}


def run_script(
    tmp_path: Path, script: str, *args: str, project_dir: Path = PROJECT_DIR, **settings: str
):
    """Run one of the project's scripts in a fresh process,
    with its outputs and TrackIO store in tmp_path."""
    command = [sys.executable, str(project_dir / script), *args]
    env = script_env(tmp_path, settings)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def runs(tmp_path: Path) -> list[Path]:
    outputs = tmp_path / "outputs"
    if not outputs.exists():
        return []
    return sorted(path for path in outputs.iterdir() if not path.name.startswith("."))


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Path:
    """Two runs side by side, shared by the tests that only read what they left:
    `recorded`, as the project is (OVERFIT_GAP=-1 makes any gap an alert),
    and `other-seed`, with SEED=1."""
    tmp_path = tmp_path_factory.mktemp("recorded")
    runs = {"recorded": {"OVERFIT_GAP": "-1"}, "other-seed": {"SEED": "1"}}
    command = [sys.executable, str(PROJECT_DIR / "train.py")]
    for name, settings in runs.items():
        env = script_env(tmp_path, settings | {"RUN_NAME": name})
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True}
        runs[name] = subprocess.Popen(command, env=env, **quiet)
    for process in runs.values():
        assert process.wait(timeout=300) == 0, process.stderr.read()
    return tmp_path / "outputs"
