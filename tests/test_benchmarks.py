"""The benchmarks' reports: how they count builds, judge the goals and tell the waits. The
benchmarks themselves run only with `make bench` and its siblings, on a real engine."""

import importlib.util
import os
import sys
from pathlib import Path

from conftest import REPO

spec = importlib.util.spec_from_file_location("benchmark", REPO / "benchmarks" / "run.py")
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)
sys.path.insert(0, str(REPO / "benchmarks"))
import waits  # noqa: E402 (benchmarks/ is no package)

MEASURES = [
    "cold",
    "no-op",
    "code edit",
    "requirements edit",
    "requirements edit, empty cache",
    "start",
    "make train",
]


def measured(key: str, size_mb: int, seconds: dict[str, list[float]]):
    """A variant as `measure` leaves it: every measure timed (10 s unless given), one build each."""
    variant = benchmark.Variant(key, Path(key), layered=key != "naive", size_mb=size_mb)
    for measure in MEASURES:
        variant.seconds[measure] = seconds.get(measure, [10.0])
        variant.builds[measure] = [1]
    return variant


def test_goals_are_judged_on_medians_against_layered_pip():
    naive = measured("naive", 700, {})
    pip = measured("pip", 600, {"requirements edit": [20.0, 30.0, 25.0], "start": [2.0]})
    uv = measured("uv", 650, {"requirements edit": [12.0, 12.5, 50.0], "start": [2.3]})

    goals = benchmark.goals_table([naive, pip, uv]).splitlines()

    # 12.5 s ÷ 25 s: the outlier is ignored
    assert goals[2] == "| requirements edit | ≤ 0.5× | 0.50× | yes |"
    assert goals[3] == "| container start | ≤ 1.1× | 1.15× | **no** |"
    assert goals[4] == "| image size | ≤ 1.05× | 1.08× | **no** |"


def test_the_table_says_how_many_builds_ran():
    naive = measured("naive", 700, {"no-op": [0.13]})
    pip = measured("pip", 600, {"no-op": [0.08]})
    uv = measured("uv", 600, {"no-op": [0.06]})
    pip.builds["no-op"] = [0]
    uv.builds["no-op"] = [0, 1]

    table = benchmark.results_table([naive, pip, uv], base_mb=190)

    nothing_changed = (
        "| `make image`, nothing changed | 0.13 s, 1 build | 0.08 s, 0 builds"
        " | 0.06 s, 0–1 builds |  |"
    )
    assert nothing_changed in table
    assert "| image size (base image: 190 MB) | 700 MB | 600 MB | 600 MB | 1.00× |" in table


def test_a_wait_is_seconds_and_a_test_run_says_how_many_passed(tmp_path):
    """timed() gives seconds, as lock.py, notebooks.py and class_reproduce.py add them up;
    median_wait() adds how many tests the last run passed."""
    assert isinstance(waits.timed(["true"], tmp_path, dict(os.environ)), float)
    runs = [(3.0, ""), (1.0, ""), (2.0, "=== 63 passed in 2.01s ===")]
    assert waits.median_wait(runs) == "2.0 s, 63 passed"
    assert waits.median_wait([(4.0, "Image my_project:1 is up to date.")]) == "4.0 s"
