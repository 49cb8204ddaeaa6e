import json

import pytest
from conftest import run_dirs


def test_two_runs_give_identical_metrics_and_predictions(run_training, tmp_path):
    for _ in range(2):
        result = run_training()
        assert result.returncode == 0, result.stderr
    first, second = run_dirs(tmp_path)
    for name in ("metrics.json", "predictions.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert json.loads((first / "metrics.json").read_text())["test_accuracy"] > 0.8


def test_another_seed_gives_other_predictions(run_training, tmp_path):
    assert run_training(SEED="1").returncode == 0
    assert run_training(SEED="2").returncode == 0
    first, second = run_dirs(tmp_path)
    assert (first / "predictions.csv").read_bytes() != (second / "predictions.csv").read_bytes()


@pytest.mark.parametrize("model_type", ["random_forest", "svm", "logistic_regression"])
def test_every_model_trains(run_training, tmp_path, model_type):
    result = run_training(MODEL_TYPE=model_type)
    assert result.returncode == 0, result.stderr
    [run_dir] = run_dirs(tmp_path)
    assert run_dir.name.startswith(model_type)
    assert {path.name for path in run_dir.iterdir()} >= {"metrics.json", "predictions.csv", "model.joblib"}


def test_csv_data_with_its_target_column(run_training, tmp_path):
    rows = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(60)]
    (tmp_path / "toy.csv").write_text("\n".join(rows) + "\n")
    result = run_training(DATA=str(tmp_path / "toy.csv"), TARGET="label")
    assert result.returncode == 0, result.stderr
    assert "toy.csv" in result.stdout


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MODEL_TYPE": "bogus"}, "MODEL_TYPE must be one of"),
        ({"N_ESTIMATORS": "-5"}, "N_ESTIMATORS must be a positive whole number"),
        ({"N_ESTIMATORS": "many"}, "N_ESTIMATORS must be a whole number"),
        ({"TEST_SIZE": "1.5"}, "TEST_SIZE must be between 0 and 1"),
        ({"DATA": "data/missing.csv"}, "DATA file 'data/missing.csv' does not exist"),
    ],
)
def test_bad_settings_fail_clearly_and_leave_no_run(run_training, tmp_path, settings, message):
    result = run_training(**settings)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: {result.stderr.strip().removeprefix('error: ')}"]
    assert message in result.stderr
    assert run_dirs(tmp_path) == []
    assert not (tmp_path / "trackio").exists() or not list((tmp_path / "trackio").glob("*.db"))


def test_missing_target_column_lists_the_columns(run_training, tmp_path):
    (tmp_path / "toy.csv").write_text("a,b\n1,2\n3,4\n")
    result = run_training(DATA=str(tmp_path / "toy.csv"), TARGET="label")
    assert result.returncode != 0
    assert "TARGET column 'label' is not in" in result.stderr and "a, b" in result.stderr
    assert run_dirs(tmp_path) == []
