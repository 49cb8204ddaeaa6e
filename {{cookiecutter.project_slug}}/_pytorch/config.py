"""The run's settings, read from environment variables so that `make train KEY=value` changes them."""

import os
from dataclasses import asdict, dataclass, fields

DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A setting has a value that the run cannot use."""


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


def _parse(name: str, raw: str, kind: type):
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {'a whole number' if kind is int else 'a number'}, got {raw!r}") from None


def _check(config: Config) -> None:
    if not 0 <= config.seed <= 2**32 - 1:
        raise ConfigError(f"SEED must be from 0 to 4294967295, got {config.seed}")
    for name in ("epochs", "batch_size", "hidden", "threads"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name.upper()} must be a positive whole number, got {getattr(config, name)}")
    if config.num_workers < 0:
        raise ConfigError(f"NUM_WORKERS must be 0 or more, got {config.num_workers}")
    if config.lr <= 0:
        raise ConfigError(f"LR must be greater than 0, got {config.lr}")
    if config.device not in DEVICES:
        raise ConfigError(f"DEVICE must be one of {', '.join(DEVICES)}, got {config.device!r}")
    for name in ("test_size", "val_size"):
        if not 0 < getattr(config, name) < 1:
            raise ConfigError(f"{name.upper()} must be between 0 and 1, got {getattr(config, name)}")
    if "/" in config.run_name or config.run_name.startswith("."):
        raise ConfigError(f"RUN_NAME must be a plain name without '/' or a leading '.', got {config.run_name!r}")


def load_config(environ=os.environ) -> Config:
    """Build the config from the defaults above, overridden by upper-case environment variables."""
    values = {}
    for field in fields(Config):
        raw = environ.get(field.name.upper(), "").strip()
        if raw:
            values[field.name] = raw if field.type is str else _parse(field.name.upper(), raw, field.type)
    config = Config(**values)
    _check(config)
    return config
