"""The run's settings, read from environment variables so that `make train KEY=value` changes them."""

import os
from dataclasses import asdict, dataclass

from settings import ConfigError, read_settings

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class Config:
    seed: int = {{ cookiecutter.seed }}
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.001  # learning rate of the Adam optimiser
    hidden: int = 64  # units in the network's hidden layer
    num_workers: int = 0  # DataLoader worker processes; seeding.seed_worker seeds each one
    threads: int = 1  # torch's CPU threads: they decide how sums are split, so fix them; 1 is fastest here
    device: str = "auto"  # auto takes the GPU when there is one; cpu or cuda insist
    test_size: float = 0.2
    val_size: float = 0.1  # share of the training rows held out to validate after each epoch
    data: str = ""  # a CSV file; empty means scikit-learn's built-in digits
    target: str = "target"  # the CSV column to predict
    overfit_gap: float = 0.05  # alert when train accuracy beats test accuracy by more
    run_name: str = ""  # empty means mlp-seed<seed>-<time>

    def as_dict(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        """The rules of this framework's settings; settings.py checks the shared ones."""
        for name in ("epochs", "batch_size", "hidden", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.upper()} must be a positive whole number, got {getattr(self, name)}")
        if self.num_workers < 0:
            raise ConfigError(f"NUM_WORKERS must be 0 or more, got {self.num_workers}")
        if self.lr <= 0:
            raise ConfigError(f"LR must be greater than 0, got {self.lr}")
        if self.device not in DEVICES:
            raise ConfigError(f"DEVICE must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if not 0 < self.val_size < 1:
            raise ConfigError(f"VAL_SIZE must be between 0 and 1, got {self.val_size}")


def load_config(environ=os.environ) -> Config:
    """The defaults above, overridden by upper-case environment variables, e.g. SEED=7."""
    return read_settings(Config, environ)
