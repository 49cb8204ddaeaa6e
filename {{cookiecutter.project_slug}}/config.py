"""The run's settings, read from environment variables so that `make train KEY=value` changes them."""

import os
from dataclasses import asdict, dataclass, fields

MODEL_TYPES = ("random_forest", "svm", "logistic_regression")


class ConfigError(ValueError):
    """A setting has a value that the run cannot use."""


@dataclass(frozen=True)
class Config:
    seed: int = {{ cookiecutter.seed }}
    model_type: str = "{{ cookiecutter.default_model }}"
    n_estimators: int = 100  # trees in the random forest
    c: float = 1.0  # inverse regularisation strength of the SVM and logistic regression
    test_size: float = 0.2
    data: str = ""  # a CSV file; empty means scikit-learn's built-in digits
    target: str = "target"  # the CSV column to predict
    overfit_gap: float = 0.05  # alert when train accuracy beats test accuracy by more
    run_name: str = ""  # empty means <model>-seed<seed>-<time>

    def as_dict(self) -> dict:
        return asdict(self)


def _parse(name: str, raw: str, kind: type):
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {'a whole number' if kind is int else 'a number'}, got {raw!r}") from None


def _check(config: Config) -> None:
    if config.model_type not in MODEL_TYPES:
        raise ConfigError(f"MODEL_TYPE must be one of {', '.join(MODEL_TYPES)}, got {config.model_type!r}")
    if not 0 <= config.seed <= 2**32 - 1:
        raise ConfigError(f"SEED must be from 0 to 4294967295, got {config.seed}")
    if config.n_estimators < 1:
        raise ConfigError(f"N_ESTIMATORS must be a positive whole number, got {config.n_estimators}")
    if config.c <= 0:
        raise ConfigError(f"C must be greater than 0, got {config.c}")
    if not 0 < config.test_size < 1:
        raise ConfigError(f"TEST_SIZE must be between 0 and 1, got {config.test_size}")
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
