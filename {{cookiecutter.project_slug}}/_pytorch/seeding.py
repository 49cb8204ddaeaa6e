"""One seed for every source of randomness, and torch's deterministic kernels:
the same config, the same result."""

import os
import random
import warnings

import numpy as np
import torch

# cuBLAS reads this when CUDA starts; these are the two values that make it deterministic.
DETERMINISTIC_CUBLAS = (":4096:8", ":16:8")


def seed_everything(seed: int, warn_only: bool = False) -> None:
    """Seed random, numpy and torch, on the CPU and every GPU, and make torch deterministic."""
    # Python reads PYTHONHASHSEED only when it starts: the image and make set it.
    if "PYTHONHASHSEED" not in os.environ:
        warnings.warn(
            "PYTHONHASHSEED is not set: the order of string sets may vary between runs",
            stacklevel=2,
        )
    if os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in DETERMINISTIC_CUBLAS:
        if torch.cuda.is_initialized():
            late = "CUBLAS_WORKSPACE_CONFIG must be :4096:8 before CUDA starts"
            raise RuntimeError(f"{late}; set it in the environment")
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = DETERMINISTIC_CUBLAS[0]
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every GPU as well
    # Deterministic kernels, even where slower;
    # an operation that has none stops the run (DETERMINISM=warn: warns).
    torch.use_deterministic_algorithms(True, warn_only=warn_only)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = (
        False  # benchmarking picks kernels by timing them, which varies
    )
    # TF32 rounds matmuls differently on different GPUs: keep full float32.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")


def seed_worker(worker_id: int) -> None:
    """A DataLoader's worker_init_fn: seed each worker's random and numpy from its own torch
    seed."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
