"""How a run's settings are read from the environment: the same rules for every config.py."""

import os
from dataclasses import fields


class ConfigError(ValueError):
    """A setting has a value that the run cannot use."""


def _parse(name: str, raw: str, kind: type):
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {'a whole number' if kind is int else 'a number'}, got {raw!r}") from None


def _check_common(config) -> None:
    if not 0 <= config.seed <= 2**32 - 1:
        raise ConfigError(f"SEED must be from 0 to 4294967295, got {config.seed}")
    if not 0 < config.test_size < 1:
        raise ConfigError(f"TEST_SIZE must be between 0 and 1, got {config.test_size}")
    if "/" in config.run_name or config.run_name.startswith("."):
        raise ConfigError(f"RUN_NAME must be a plain name without '/' or a leading '.', got {config.run_name!r}")


def read_settings(config_class, environ=os.environ):
    """The config class's defaults, overridden by its fields' names in capitals found in the environment,
    then checked: first the rules every run shares, then the class's own `check()`."""
    values = {}
    for field in fields(config_class):
        raw = environ.get(field.name.upper(), "").strip()
        if raw:
            values[field.name] = raw if field.type is str else _parse(field.name.upper(), raw, field.type)
    config = config_class(**values)
    _check_common(config)
    config.check()
    return config
