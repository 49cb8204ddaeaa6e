"""Choose where the network runs, and describe it: GPU results depend on the GPU and its libraries."""

import torch

from config import ConfigError


def choose_device(setting: str) -> torch.device:
    # is_available() asks the driver without starting CUDA, so seeding can still set up cuBLAS afterwards.
    has_gpu = torch.cuda.is_available()
    if setting == "cuda" and not has_gpu:
        raise ConfigError("DEVICE=cuda, but torch sees no GPU here; use DEVICE=cpu, or run with `make train GPU=1`")
    return torch.device("cuda" if setting == "cuda" or (setting == "auto" and has_gpu) else "cpu")


def torch_facts(device: torch.device) -> dict:
    """What the network ran on and with, for the run's manifest and TrackIO config."""
    return {
        "device": device.type,
        "version": torch.__version__,
        "cuda": torch.version.cuda,  # None in a CPU-only build of torch
        "cudnn": torch.backends.cudnn.version(),
        "cpu_threads": torch.get_num_threads(),  # CPU sums may round differently with another thread count
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "determinism_warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
    }
