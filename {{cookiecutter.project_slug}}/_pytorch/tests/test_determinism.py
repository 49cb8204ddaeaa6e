"""After seed_everything, torch is in the deterministic state that seeding.py promises: checked in fresh processes."""

import json

import pytest

STATE = """
import json, os, torch
from seeding import seed_everything
seed_everything(5)
print(json.dumps({
    "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
    "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
    "cudnn_deterministic": torch.backends.cudnn.deterministic,
    "cudnn_benchmark": torch.backends.cudnn.benchmark,
    "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
    "cudnn_tf32": torch.backends.cudnn.allow_tf32,
    "float32_matmul_precision": torch.get_float32_matmul_precision(),
    "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    "draws": torch.rand(3).tolist(),
}))
"""


def state(run_python, **env) -> dict:
    return json.loads(run_python(STATE, **env))


def test_seed_everything_turns_on_every_determinism_flag(run_python):
    assert state(run_python, DETERMINISM=None, CUBLAS_WORKSPACE_CONFIG=None) | {"draws": None} == {
        "deterministic_algorithms": True,
        "warn_only": False,
        "cudnn_deterministic": True,
        "cudnn_benchmark": False,
        "matmul_tf32": False,
        "cudnn_tf32": False,
        "float32_matmul_precision": "highest",
        "cublas_workspace_config": ":4096:8",
        "draws": None,
    }


def test_the_same_seed_gives_the_same_torch_numbers_in_another_process(run_python):
    assert state(run_python)["draws"] == state(run_python)["draws"]


def test_determinism_warn_keeps_deterministic_kernels_but_only_warns(run_python):
    flags = state(run_python, DETERMINISM="warn")
    assert flags["deterministic_algorithms"] and flags["warn_only"]
    assert flags["cudnn_deterministic"] and not flags["cudnn_benchmark"]


def test_a_deterministic_cublas_config_from_the_environment_is_kept(run_python):
    assert state(run_python, CUBLAS_WORKSPACE_CONFIG=":16:8")["cublas_workspace_config"] == ":16:8"


@pytest.mark.parametrize("cublas_config", [None, ":0:0"])
def test_cuda_started_without_a_deterministic_cublas_config_is_refused(run_python, cublas_config):
    # No GPU is needed: pretend that CUDA has started, as it would have if something used the GPU first.
    script = """
import torch
from seeding import seed_everything
torch.cuda.is_initialized = lambda: True
try:
    seed_everything(5)
except RuntimeError as error:
    print(error)
"""
    assert "CUBLAS_WORKSPACE_CONFIG must be :4096:8 before CUDA starts" in run_python(
        script, CUBLAS_WORKSPACE_CONFIG=cublas_config
    )


def test_a_missing_pythonhashseed_is_warned_about(run_python):
    script = """
import warnings
from seeding import seed_everything
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    seed_everything(5)
print([str(warning.message) for warning in caught])
"""
    assert "PYTHONHASHSEED is not set" in run_python(script, PYTHONHASHSEED=None)
