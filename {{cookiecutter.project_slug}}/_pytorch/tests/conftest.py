import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

PROJECT_DIR = Path(__file__).resolve().parents[1]
# An edit of train.py that leaves one draw unseeded, to show that the reproducibility check catches it.
UNSEEDED_EDIT = (
    "generator=torch_generator(config.seed)",
    "generator=torch_generator(int.from_bytes(os.urandom(4), 'big'))",
)


@pytest.fixture
def run_training(tmp_path):
    """Run train.py in a fresh Python process, with its outputs and TrackIO store in tmp_path."""

    def run(**settings: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PYTHONHASHSEED": "0",
            "OUTPUT_DIR": str(tmp_path / "outputs"),
            "TRACKIO_DIR": str(tmp_path / "trackio"),
            "EPOCHS": "5",
            **settings,
        }
        return subprocess.run(
            [sys.executable, str(PROJECT_DIR / "train.py")], env=env, capture_output=True, text=True, timeout=300
        )

    return run


@pytest.fixture
def run_python(tmp_path):
    """Run a Python script in a fresh process in the project folder; returns its stdout.
    Environment variables given as None are removed."""

    def run(script: str, **env: str | None) -> str:
        path = tmp_path / "script.py"
        path.write_text(script)
        env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "PYTHONHASHSEED": "0", **env}
        result = subprocess.run(
            [sys.executable, str(path)],
            cwd=PROJECT_DIR,
            env={name: value for name, value in env.items() if value is not None},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    return run


def run_dirs(tmp_path: Path) -> list[Path]:
    outputs = tmp_path / "outputs"
    return sorted(outputs.iterdir()) if outputs.exists() else []


def weights_sha256(model_file: Path) -> str:
    """sha256 over every tensor of a saved state dict, with its name: equal only for bit-identical weights."""
    digest = hashlib.sha256()
    for name, tensor in torch.load(model_file, weights_only=True).items():
        digest.update(name.encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()
