import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import PROJECT_DIR, manifest, side_by_side

from config import ConfigError, load_config
from train import choose_device

GPU = torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(
    not GPU, reason="no GPU here: the CUDA path is checked on a machine with one"
)


def python_process(script: str, **env: str | None) -> dict:
    """How to run a script in a fresh Python process in the project folder.
    None unsets a variable."""
    path = os.pathsep.join(filter(None, [str(PROJECT_DIR), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "0", **env}
    env = {name: value for name, value in env.items() if value is not None}
    return {"args": [sys.executable, "-c", script], "cwd": PROJECT_DIR, "env": env}


def printed(result: subprocess.CompletedProcess) -> str:
    """What a script printed, once it has succeeded."""
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_python(script: str, **env: str | None) -> str:
    """A script in a fresh Python process in the project folder; returns what it prints."""
    return printed(side_by_side({"script": python_process(script, **env)})["script"])


def test_a_run_records_its_model_and_where_it_ran(recorded):
    files = {path.name for path in (recorded / "recorded").iterdir()}
    assert {"model.pt", "preprocessing.joblib", "confusion_matrix.png"} <= files
    record = manifest(recorded / "recorded")
    assert record["result"]["metrics"]["test_accuracy"] > 0.8
    assert (
        record["device"]["type"] == ("cuda" if GPU else "cpu")
        and record["device"]["torch"] == torch.__version__
    )
    assert (
        record["device"]["deterministic_algorithms"]
        and not record["device"]["determinism_warn_only"]
    )


def test_a_run_is_scored_against_the_trivial_baseline(recorded):
    metrics = manifest(recorded / "recorded")["result"]["metrics"]
    assert 0 < metrics["baseline_accuracy"] < metrics["test_accuracy"]  # the commonest digit: 0.1


def test_another_seed_gives_other_weights(recorded):
    one, other = (
        manifest(recorded / name)["result"]["model_sha256"] for name in ("recorded", "other-seed")
    )
    assert one != other


BATCHES = """
import json, random
import numpy as np, torch
from config import Config
from train import make_loader

# Each item also draws from random and numpy inside its worker.
class Draws(torch.utils.data.Dataset):
    def __len__(self):
        return 40
    def __getitem__(self, index):
        return index, random.random(), np.random.random()

if __name__ == "__main__":
    loaders = [make_loader(Draws(), Config(seed=3, batch_size=8, num_workers=n)) for n in (2, 2, 0)]
    def batches(loader) -> list:
        return [[value.tolist() for value in batch] for batch in loader]

    epochs = [[batches(loader) for _ in range(2)] for loader in loaders]
    print(json.dumps(epochs))
"""


def test_batches_repeat_and_worker_processes_do_not_change_them():
    (first, second, without_workers) = json.loads(run_python(BATCHES))
    assert first == second
    order = [index for batch in first[0] for index in batch[0]]
    assert [
        index for batch in without_workers[0] for index in batch[0]
    ] == order  # so the weights are the same
    assert sorted(order) == list(range(40)) and order != list(range(40))
    assert [index for batch in first[1] for index in batch[0]] != order  # each epoch reshuffles
    draws = [value for batch in first[0] for value in batch[1] + batch[2]]
    assert len(set(draws)) == len(draws)  # the two workers got different seeds


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"EPOCHS": "0"}, "EPOCHS must be 1 or more, got 0"),
        ({"BATCH_SIZE": "many"}, "BATCH_SIZE must be a whole number, got 'many'"),
        ({"LR": "-0.1"}, "LR must be greater than 0, got -0.1"),
        ({"NUM_WORKERS": "-1"}, "NUM_WORKERS must be 0 or more, got -1"),
        ({"DEVICE": "tpu"}, "DEVICE must be one of auto, cpu, cuda, got 'tpu'"),
        ({"DETERMINISM": "off"}, "DETERMINISM must be error or warn, got 'off'"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(settings, message):
    with pytest.raises(ConfigError, match=message):
        load_config(settings)


@pytest.mark.skipif(GPU, reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused_with_what_to_do():
    with pytest.raises(
        ConfigError,
        match="DEVICE=cuda, but torch sees no GPU here; use DEVICE=cpu, or run with `make",
    ):
        choose_device("cuda")


@needs_gpu
def test_two_cuda_runs_give_bit_identical_weights(tmp_path):
    from conftest import run_script

    result = run_script(tmp_path, "verify.py", DEVICE="cuda", HIDDEN="2048", NUM_WORKERS="2")
    assert result.returncode == 0, result.stderr
    assert "reproduced bit-identical" in result.stdout


@needs_gpu
def test_a_nondeterministic_cuda_operation_is_refused():
    script = """
import torch
from seeding import seed_everything
seed_everything(0)
for operation in (lambda x: torch.histc(x), lambda x: torch.bincount(x.long(), weights=x)):
    try:
        operation(torch.rand(100, device="cuda"))
        print("allowed")
    except RuntimeError as error:
        print("refused" if "does not have a deterministic implementation" in str(error) else error)
"""
    assert run_python(script).split() == ["refused", "refused"]
