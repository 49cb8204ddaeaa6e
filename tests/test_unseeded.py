"""An unseeded draw changes the model even where it changes no prediction: verify must fail on it
every time, not only when a prediction happens to move. Twenty verifies in a row, for each
framework."""

import os
import shutil
import sys
from pathlib import Path

import pytest
from baked import captured
from conftest import bake
from test_pytorch import torch_python  # noqa: F401 (a fixture)

REPEATS = 20
# The seeded line of each framework's train.py,
# and the same line drawing its seed from the OS instead.
EDITS = {
    "scikit-learn": (
        "max_depth=c.max_depth, random_state=c.seed)",
        "max_depth=c.max_depth, random_state=UNSEEDED)",
    ),
    "pytorch": (
        "torch.Generator().manual_seed(config.seed)",
        "torch.Generator().manual_seed(UNSEEDED)",
    ),
}
FAST = {"scikit-learn": {"N_ESTIMATORS": "5"}, "pytorch": {"EPOCHS": "1"}}


def unseeded_project(tmp_path: Path, framework: str) -> Path:
    project = bake(tmp_path, framework=framework)
    train = project / "train.py"
    seeded, unseeded = EDITS[framework]
    assert seeded in train.read_text()
    drawn = unseeded.replace("UNSEEDED", "int.from_bytes(__import__('os').urandom(4), 'big')")
    train.write_text(train.read_text().replace(seeded, drawn))
    return project


@pytest.mark.slow
@pytest.mark.parametrize("framework", EDITS)
def test_verify_fails_on_an_unseeded_draw_every_time(tmp_path, framework, request):
    python = (
        request.getfixturevalue("torch_python") if framework == "pytorch" else Path(sys.executable)
    )
    project = unseeded_project(tmp_path, framework)
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "OUTPUT_DIR": str(tmp_path / "outputs"),
        **FAST[framework],
    }
    verdicts = []
    for _ in range(REPEATS):
        command = [python, "verify.py"]
        result = captured(command, cwd=project, env=env, timeout=300)
        failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED: ")]
        verdicts.append((result.returncode, failures[0] if failures else result.stderr[-500:]))
        shutil.rmtree(tmp_path / "outputs", ignore_errors=True)
    assert all(
        code == 1 and verdict.startswith("FAILED: two fresh runs") for code, verdict in verdicts
    ), verdicts
