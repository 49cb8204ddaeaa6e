import random

import numpy as np

from seeding import seed_everything


def draw() -> tuple:
    return random.random(), np.random.rand(3).tolist()


def test_same_seed_repeats_random_and_numpy():
    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first


def test_another_seed_differs():
    seed_everything(7)
    first = draw()
    seed_everything(8)
    assert draw() != first
