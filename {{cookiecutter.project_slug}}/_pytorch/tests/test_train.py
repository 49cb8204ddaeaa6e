import json
import re

import pandas as pd
import pytest
import torch
from conftest import run_dirs, weights_sha256

from config import ConfigError, load_config


def test_two_runs_give_bit_identical_weights_and_metrics(run_training, tmp_path):
    for _ in range(2):
        result = run_training()
        assert result.returncode == 0, result.stderr
    first, second = run_dirs(tmp_path)
    assert weights_sha256(first / "model.pt") == weights_sha256(second / "model.pt")
    for name in ("metrics.json", "predictions.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert json.loads((first / "metrics.json").read_text())["test_accuracy"] > 0.8


def test_another_seed_gives_other_weights(run_training, tmp_path):
    assert run_training(SEED="1").returncode == 0
    assert run_training(SEED="2").returncode == 0
    first, second = run_dirs(tmp_path)
    assert weights_sha256(first / "model.pt") != weights_sha256(second / "model.pt")


def test_worker_processes_do_not_change_the_weights(run_training, tmp_path):
    # The seeded generator, not the workers, decides the batches: a run with workers equals one without.
    for workers in ("0", "2"):
        result = run_training(NUM_WORKERS=workers, EPOCHS="2")
        assert result.returncode == 0, result.stderr
    without, with_workers = run_dirs(tmp_path)
    assert weights_sha256(without / "model.pt") == weights_sha256(with_workers / "model.pt")


LOADER_ORDER = """
import json, random
import numpy as np
import torch
from config import Config
from train import make_loader

class Draws(torch.utils.data.Dataset):
    # Each item also draws from random and numpy inside the worker, which seeding.seed_worker seeds.
    def __len__(self):
        return 40

    def __getitem__(self, index):
        return index, random.random(), np.random.random()

if __name__ == "__main__":
    loader = make_loader(Draws(), Config(seed=3, batch_size=8, num_workers=2))
    epochs = [[[value.tolist() for value in batch] for batch in loader] for _ in range(2)]
    print(json.dumps(epochs))
"""


def test_data_loader_order_repeats_with_two_workers(run_python):
    first, second = (json.loads(run_python(LOADER_ORDER)) for _ in range(2))
    assert first == second
    order = [index for batch in first[0] for index in batch[0]]
    assert sorted(order) == list(range(40)) and order != list(range(40))
    assert [index for batch in first[1] for index in batch[0]] != order  # each epoch reshuffles
    draws = [value for batch in first[0] for value in batch[1] + batch[2]]
    assert len(set(draws)) == len(draws)  # the two workers got different seeds


def test_csv_data_with_its_target_column(run_training, tmp_path):
    rows = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "toy.csv").write_text("\n".join(rows) + "\n")
    result = run_training(DATA=str(tmp_path / "toy.csv"), TARGET="label")
    assert result.returncode == 0, result.stderr
    assert "toy.csv" in result.stdout
    [run_dir] = run_dirs(tmp_path)
    predictions = pd.read_csv(run_dir / "predictions.csv")
    assert set(predictions["true"]) | set(predictions["predicted"]) <= {"a", "b"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"EPOCHS": "0"}, "EPOCHS must be a positive whole number"),
        ({"BATCH_SIZE": "many"}, "BATCH_SIZE must be a whole number"),
        ({"LR": "-0.1"}, "LR must be greater than 0"),
        ({"THREADS": "0"}, "THREADS must be a positive whole number"),
        ({"NUM_WORKERS": "-1"}, "NUM_WORKERS must be 0 or more"),
        ({"DEVICE": "tpu"}, "DEVICE must be one of auto, cpu, cuda"),
        ({"VAL_SIZE": "0"}, "VAL_SIZE must be between 0 and 1"),
        ({"TEST_SIZE": "1.5"}, "TEST_SIZE must be between 0 and 1"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(settings)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"EPOCHS": "0"}, "EPOCHS must be a positive whole number"),
        ({"DATA": "data/missing.csv"}, "DATA file 'data/missing.csv' does not exist"),
    ],
)
def test_a_bad_setting_stops_the_run_with_one_line_and_leaves_no_run(run_training, tmp_path, settings, message):
    result = run_training(**settings)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: {result.stderr.strip().removeprefix('error: ')}"]
    assert message in result.stderr
    assert run_dirs(tmp_path) == []
    assert not (tmp_path / "trackio").exists() or not list((tmp_path / "trackio").glob("*.db"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_fails_clearly(run_training, tmp_path):
    result = run_training(DEVICE="cuda")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "error: DEVICE=cuda, but torch sees no GPU here; use DEVICE=cpu, or run with `make train GPU=1`"
    )
    assert run_dirs(tmp_path) == []


def test_missing_target_column_lists_the_columns(run_training, tmp_path):
    (tmp_path / "toy.csv").write_text("a,b\n1,2\n3,4\n")
    result = run_training(DATA=str(tmp_path / "toy.csv"), TARGET="label")
    assert result.returncode != 0
    assert "TARGET column 'label' is not in" in result.stderr and "a, b" in result.stderr
    assert run_dirs(tmp_path) == []
