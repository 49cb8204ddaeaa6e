"""After seed_everything, torch is in the deterministic state that seeding.py promises:
checked in fresh processes."""

import json

import pytest
from conftest import side_by_side
from test_train import printed, python_process

STATE = """
import json, os, warnings, torch
from seeding import seed_everything

def state(**options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seed_everything(5, **options)
    return {
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_tf32": torch.backends.cudnn.allow_tf32,
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "draws": torch.rand(3).tolist(),
        "warnings": [str(warning.message) for warning in caught],
    }

print(json.dumps([state(), state(warn_only=True)]))
"""
FLAGS = {
    "deterministic_algorithms": True,
    "warn_only": False,
    "cudnn_deterministic": True,
    "cudnn_benchmark": False,
    "matmul_tf32": False,
    "cudnn_tf32": False,
    "float32_matmul_precision": "highest",
}


# seed_everything when something has started CUDA before it. No GPU is needed: pretend that CUDA
# has started, as it would have if something used the GPU first.
REFUSAL = """
import torch
from seeding import seed_everything
torch.cuda.is_initialized = lambda: True
try:
    seed_everything(5)
except RuntimeError as error:
    print(error)
"""


@pytest.fixture(scope="module")
def fresh() -> dict:
    """Fresh processes side by side: STATE as the project runs it (`seeded`), and with another
    cuBLAS config and no hash seed (`other`); REFUSAL with a cuBLAS config that is not
    deterministic (`refusal`)."""
    return side_by_side(
        {
            "seeded": python_process(STATE, CUBLAS_WORKSPACE_CONFIG=None),
            "other": python_process(STATE, CUBLAS_WORKSPACE_CONFIG=":16:8", PYTHONHASHSEED=None),
            "refusal": python_process(REFUSAL, CUBLAS_WORKSPACE_CONFIG=":0:0"),
        }
    )


def test_seed_everything_turns_on_every_determinism_flag(fresh):
    seeded, warn_only = json.loads(printed(fresh["seeded"]))
    assert seeded | {"draws": None} == FLAGS | {
        "cublas_workspace_config": ":4096:8",
        "draws": None,
        "warnings": [],
    }
    assert warn_only | {"draws": None, "warnings": []} == seeded | {
        "warn_only": True,
        "draws": None,
    }
    assert warn_only["draws"] == seeded["draws"]


def test_draws_repeat_in_a_fresh_process_that_keeps_its_cublas_config_and_warns_of_no_hash_seed(
    fresh,
):
    seeded, _ = json.loads(printed(fresh["seeded"]))
    other, _ = json.loads(printed(fresh["other"]))
    assert other["draws"] == seeded["draws"]
    assert other["cublas_workspace_config"] == ":16:8"
    assert any("PYTHONHASHSEED is not set" in warning for warning in other["warnings"])


def test_cuda_started_without_a_deterministic_cublas_config_is_refused(fresh):
    refusal = printed(fresh["refusal"])
    assert "CUBLAS_WORKSPACE_CONFIG must be :4096:8 before CUDA starts" in refusal
