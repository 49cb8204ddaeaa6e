"""The run's settings, read from environment variables so that `make train KEY=value` changes them."""

import os
from dataclasses import asdict, dataclass

from settings import ConfigError, read_settings

MODEL_TYPES = ("random_forest", "svm", "logistic_regression")


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

    def check(self) -> None:
        """The rules of this framework's settings; settings.py checks the shared ones."""
        if self.model_type not in MODEL_TYPES:
            raise ConfigError(f"MODEL_TYPE must be one of {', '.join(MODEL_TYPES)}, got {self.model_type!r}")
        if self.n_estimators < 1:
            raise ConfigError(f"N_ESTIMATORS must be a positive whole number, got {self.n_estimators}")
        if self.c <= 0:
            raise ConfigError(f"C must be greater than 0, got {self.c}")


def load_config(environ=os.environ) -> Config:
    """The defaults above, overridden by upper-case environment variables, e.g. SEED=7."""
    return read_settings(Config, environ)
