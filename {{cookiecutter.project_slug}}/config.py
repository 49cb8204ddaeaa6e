"""The run's settings: the defaults below,
changed for one run with `make train NAME=value` (NAME in capitals)."""

import os
import types
from dataclasses import dataclass, fields
from pathlib import Path
from typing import get_args

TASKS = ("auto", "classification", "regression")
CURVES = ("auto", "rows")
{%- if cookiecutter.framework == "pytorch" %}
DEVICES = ("auto", "cpu", "cuda")
{%- endif %}


class ConfigError(ValueError):
    """A setting has a value that the run cannot use."""


@dataclass(frozen=True)
class Config:
    seed: int = {{ cookiecutter.seed }}
{%- if cookiecutter.framework == "pytorch" %}
    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.001  # learning rate of the Adam optimiser
    hidden: int = 64  # units in the network's hidden layer
    num_workers: int = 0  # DataLoader worker processes; seeding.seed_worker seeds each one
    # torch's CPU threads: they decide how sums are split, so they are fixed like the seed
    threads: int = 1
    device: str = "auto"  # auto takes the GPU when there is one; cpu or cuda insist
    determinism: str = "error"  # warn: an operation without a deterministic kernel only warns
    val_size: float = 0.1  # share of the training rows that validates each epoch
{%- else %}
    model_type: str = "{{ cookiecutter.default_model }}"  # a key of MODELS in train.py
    n_estimators: int = 100  # trees in the random forest
    max_depth: int | None = None  # of each tree; None grows it until its leaves are pure
    c: float = 1.0  # inverse regularisation strength of the SVM and the linear models
    jobs: int = -1  # cores that fit the forest, -1 for all: the model is the same on any number
    curve: str = "auto"  # auto: over the forest's trees, or doubling rows; rows: 20% ... 100%
{%- endif %}
    test_size: float = 0.2
    data: str = ""  # a CSV file; empty means scikit-learn's built-in digits
    target: str = "target"  # the CSV column to predict
    task: str = "auto"  # classification or regression; auto infers it from the target (see data.py)
    overfit_gap: float = 0.05  # alert when the train score beats the test score by more
    run_name: str = ""  # empty means <model>-seed<seed>-<time>
    group: str = ""  # runs of one group fold together on the dashboard

    def check(self) -> None:
        """The rules that the settings follow: the first one broken stops the run."""
        rules = [
            (0 <= self.seed < 2**32, f"SEED must be from 0 to 4294967295, got {self.seed}"),
            (0 < self.test_size < 1, f"TEST_SIZE must be between 0 and 1, got {self.test_size}"),
            (self.task in TASKS, f"TASK must be one of {', '.join(TASKS)}, got {self.task!r}"),
            (
                self.run_name == Path(self.run_name).name.lstrip("."),
                f"RUN_NAME must be a plain name: {self.run_name}",
            ),
{%- if cookiecutter.framework == "pytorch" %}
            (self.epochs >= 1, f"EPOCHS must be 1 or more, got {self.epochs}"),
            (self.batch_size >= 1, f"BATCH_SIZE must be 1 or more, got {self.batch_size}"),
            (self.hidden >= 1, f"HIDDEN must be 1 or more, got {self.hidden}"),
            (self.threads >= 1, f"THREADS must be 1 or more, got {self.threads}"),
            (self.num_workers >= 0, f"NUM_WORKERS must be 0 or more, got {self.num_workers}"),
            (self.lr > 0, f"LR must be greater than 0, got {self.lr}"),
            (
                self.device in DEVICES,
                f"DEVICE must be one of {', '.join(DEVICES)}, got {self.device!r}",
            ),
            (
                self.determinism in ("error", "warn"),
                f"DETERMINISM must be error or warn, got {self.determinism!r}",
            ),
            (0 < self.val_size < 1, f"VAL_SIZE must be between 0 and 1, got {self.val_size}"),
{%- else %}
            (self.n_estimators >= 1, f"N_ESTIMATORS must be 1 or more, got {self.n_estimators}"),
            (
                self.max_depth is None or self.max_depth > 0,
                f"MAX_DEPTH must be 1 or more, or None: {self.max_depth}",
            ),
            (self.c > 0, f"C must be greater than 0, got {self.c}"),
            (self.jobs == -1 or self.jobs > 0, f"JOBS must be 1 or more, or -1: {self.jobs}"),
            (self.curve in CURVES, f"CURVE must be one of {', '.join(CURVES)}, got {self.curve!r}"),
{%- endif %}
        ]
        for holds, problem in rules:
            if not holds:
                raise ConfigError(problem)


def parse(name: str, raw: str, kind):
    """The text of an environment variable as the field's type."""
    if isinstance(kind, types.UnionType):  # int | None also takes "none"
        if raw.lower() == "none":
            return None
        kind = get_args(kind)[0]
    try:
        return kind(raw)
    except ValueError:
        wanted = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {wanted}, got {raw!r}") from None


def load_config(environ=os.environ) -> Config:
    """The defaults, changed by environment variables named after the fields in capitals,
    then checked."""
    given = {field: environ.get(field.name.upper(), "").strip() for field in fields(Config)}
    values = {}
    for field, raw in given.items():
        if raw:
            values[field.name] = parse(field.name.upper(), raw, field.type)
    config = Config(**values)
    config.check()
    return config
