"""One seed for every source of randomness, so that the same config gives the same result."""

import os
import random
import warnings

import numpy as np

# cuBLAS reads this when CUDA starts; these are the two values that make it deterministic.
DETERMINISTIC_CUBLAS_CONFIGS = (":4096:8", ":16:8")


def seed_everything(seed: int) -> None:
    """Seed random, numpy and, where torch is installed, torch on the CPU and every GPU."""
    if "PYTHONHASHSEED" not in os.environ:
        # Python reads it only at start-up: the Dockerfile and Makefile set it, so this is a plain `python` run.
        warnings.warn("PYTHONHASHSEED is not set: the order of string sets may vary between runs", stacklevel=2)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:
        return
    _make_torch_deterministic(torch, seed)


def _make_torch_deterministic(torch, seed: int) -> None:
    _check_cublas_config(torch)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    # Deterministic kernels, even where slower; DETERMINISM=warn only warns about nondeterministic ones.
    torch.use_deterministic_algorithms(True, warn_only=os.environ.get("DETERMINISM") == "warn")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False  # benchmarking picks kernels by timing, which varies
    # TF32 rounds matmuls differently on different GPUs: keep full float32.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


def _check_cublas_config(torch) -> None:
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") in DETERMINISTIC_CUBLAS_CONFIGS:
        return
    if torch.cuda.is_initialized():
        raise RuntimeError("CUBLAS_WORKSPACE_CONFIG must be :4096:8 before CUDA starts; set it in the environment")
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = DETERMINISTIC_CUBLAS_CONFIGS[0]


def seed_worker(worker_id: int) -> None:
    """DataLoader worker_init_fn: seed each worker's random and numpy from its torch seed."""
    import torch

    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def torch_generator(seed: int):
    """A seeded generator for a DataLoader, so that shuffling repeats."""
    import torch

    return torch.Generator().manual_seed(seed)
