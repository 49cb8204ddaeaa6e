"""One seed for every source of randomness, so that the same config gives the same result."""

import os
import random
import warnings

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed random and numpy.
    scikit-learn's models take the seed as random_state (see MODELS in train.py)."""
    # Python reads PYTHONHASHSEED only when it starts: the image and make set it.
    if "PYTHONHASHSEED" not in os.environ:
        warnings.warn(
            "PYTHONHASHSEED is not set: the order of string sets may vary between runs",
            stacklevel=2,
        )
    random.seed(seed)
    np.random.seed(seed)
