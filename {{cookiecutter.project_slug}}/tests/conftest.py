import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
# An edit of train.py that leaves one draw unseeded, to show that the reproducibility check catches it.
UNSEEDED_EDIT = ("random_state=config.seed, n_jobs=-1", "random_state=int.from_bytes(os.urandom(4), 'big'), n_jobs=-1")


@pytest.fixture
def run_training(tmp_path):
    """Run train.py in a fresh Python process, with its outputs and TrackIO store in tmp_path."""

    def run(**settings: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PYTHONHASHSEED": "0",
            "OUTPUT_DIR": str(tmp_path / "outputs"),
            "TRACKIO_DIR": str(tmp_path / "trackio"),
            "N_ESTIMATORS": "20",
            **settings,
        }
        return subprocess.run(
            [sys.executable, str(PROJECT_DIR / "train.py")], env=env, capture_output=True, text=True, timeout=300
        )

    return run


def run_dirs(tmp_path: Path) -> list[Path]:
    outputs = tmp_path / "outputs"
    return sorted(outputs.iterdir()) if outputs.exists() else []
