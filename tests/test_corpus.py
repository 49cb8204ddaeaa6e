"""Real public tables, and awkward copies of them, trained on as a student would (corpus/README.md).

Each file either trains with the expected task, and beats the trivial baseline or says that it does
not, or stops with one `error:` line; never a traceback or a flood of warnings, within the bounds
below. The default project's train.py runs in this virtualenv, which has the image's pins.
"""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO, bake

CORPUS = REPO / "tests" / "corpus"
EXPECTED = list(csv.DictReader((CORPUS / "expected.csv").open(encoding="utf-8")))
SECONDS = 120  # a run that takes longer has gone wrong: the largest takes about 15 s on 2 cores
MEMORY_MB = 1024  # peak resident memory of one run
WARNING_LINES = 3  # a leak, the overfitting alert, a baseline not beaten: a few lines, not a flood
PYTHON_WARNING = re.compile(r"\b[A-Z]\w*Warning\b")  # UserWarning, FutureWarning, ...
FEWER_TREES = {"N_ESTIMATORS": "20"}  # the default model with fewer trees: the corpus in minutes


def train(project: Path, work: Path, row: dict) -> dict:
    """Run train.py on one file; its output, exit status, peak memory (MB) and time (s)."""
    work.mkdir()
    settings = {"DATA": str(CORPUS / row["file"]), "TARGET": row["target"], "PYTHONHASHSEED": "0"}
    folders = {"OUTPUT_DIR": str(work / "outputs"), "TRACKIO_DIR": str(work / "trackio")}
    env = os.environ | settings | folders | FEWER_TREES
    with (work / "stdout").open("w") as stdout, (work / "stderr").open("w") as stderr:
        started = time.monotonic()
        command = [sys.executable, "train.py"]
        process = subprocess.Popen(command, cwd=project, env=env, stdout=stdout, stderr=stderr)
        timer = threading.Timer(SECONDS, os.kill, (process.pid, signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)  # its own peak memory, which run() cannot give
        timer.cancel()
    outputs = sorted((work / "outputs").glob("*/manifest.json"))
    return {
        "returncode": os.waitstatus_to_exitcode(status),
        "seconds": time.monotonic() - started,
        "memory_mb": usage.ru_maxrss / 1024,
        "stdout": (work / "stdout").read_text(),
        "stderr": (work / "stderr").read_text(),
        "manifest": json.loads(outputs[0].read_text()) if outputs else None,
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("corpus")
    project = bake(folder, project_name="Corpus Check")
    with ThreadPoolExecutor(2) as pool:
        runs = {r["file"]: pool.submit(train, project, folder / r["file"], r) for r in EXPECTED}
    return {file: run.result() for file, run in runs.items()}


def test_the_corpus_is_large_and_varied():
    assert len(EXPECTED) >= 30
    tasks = [row["task"] for row in EXPECTED]
    assert tasks.count("classification") >= 10 and tasks.count("regression") >= 10
    assert "error" in tasks
    assert all((CORPUS / row["file"]).is_file() for row in EXPECTED)


@pytest.mark.slow
@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_each_file_trains_with_its_task_or_says_why_not(results, row):
    run = results[row["file"]]
    output = run["stdout"] + run["stderr"]
    assert "Traceback" not in output, output
    assert not PYTHON_WARNING.search(output), output
    assert sum("warn" in line.lower() for line in output.splitlines()) <= WARNING_LINES, output
    assert run["memory_mb"] <= MEMORY_MB, run["memory_mb"]
    assert run["seconds"] < SECONDS, output  # killed: it ran away
    if row["task"] == "error":
        lines = run["stderr"].strip().splitlines()
        assert run["returncode"] == 1 and len(lines) == 1 and lines[0].startswith("error: "), output
        assert run["manifest"] is None
        return
    assert run["returncode"] == 0, output
    data = run["manifest"]["data"]
    assert data["task"] == row["task"], data["task_reason"]
    assert row["says"] in "\n".join(data["cleaning"] + data["warnings"]), (row["says"], data)
    metric = "accuracy" if row["task"] == "classification" else "r2"
    metrics = run["manifest"]["result"]["metrics"]
    beaten = metrics[f"test_{metric}"] > metrics[f"baseline_{metric}"]
    assert beaten == (row["beats_baseline"] == "yes"), output
    said = "warning: the model does no better than the baseline" in run["stdout"]
    assert beaten != said, output
