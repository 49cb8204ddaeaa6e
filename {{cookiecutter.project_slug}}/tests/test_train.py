import numpy as np
import pandas as pd
import pytest
from conftest import manifest, script_process, side_by_side
from test_data import csv_file

from config import Config, ConfigError, load_config
from data import MAX_CATEGORIES, load_dataset, preprocessing
from train import MAIN_METRIC, MODELS, add_votes, build_model, curve_steps, forest_answers, scores


def test_a_run_records_its_result(recorded):
    files = {path.name for path in (recorded / "recorded").iterdir()}
    assert files == {
        "manifest.json",
        "metrics.json",
        "predictions.csv",
        "model.joblib",
        "confusion_matrix.png",
    }
    assert manifest(recorded / "recorded")["result"]["metrics"]["test_accuracy"] > 0.8


def test_another_seed_gives_another_model(recorded):
    one, other = (manifest(recorded / name)["result"] for name in ("recorded", "other-seed"))
    assert (
        one["model_sha256"] != other["model_sha256"] and one["fingerprint"] != other["fingerprint"]
    )


@pytest.mark.parametrize("model_type", MODELS)
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_every_model_learns_every_task(model_type, task):
    digits = load_dataset("", "target")
    x, y = digits.features.iloc[:300], digits.target.iloc[:300]
    if task == "regression":  # a quantity that the pixels decide, with a little noise
        y = 2 * x["pixel_2_4"] + x["pixel_5_3"] + np.random.default_rng(0).random(300)
    model = build_model(Config(model_type=model_type, n_estimators=10), task).fit(x[:200], y[:200])
    score = scores(task, y[200:], model.predict(x[200:]))[MAIN_METRIC[task]]
    # A constant scores 0 (R²) or about 0.1 (accuracy).
    assert score > 0.3, (model_type, task, score)


def test_the_curve_grows_the_forest_and_doubles_the_rows_of_other_models():
    grown = Config(model_type="random_forest")  # whatever the project's default model
    assert curve_steps(grown, 900) == {step: (20 * step, 900) for step in range(1, 6)}
    few_trees = Config(model_type="random_forest", n_estimators=3)
    assert curve_steps(few_trees, 900) == {3: (1, 900), 4: (2, 900), 5: (3, 900)}
    doubling = {step: (None, 100 * 2 ** (step - 1)) for step in range(1, 6)}
    assert curve_steps(Config(model_type="svm"), 1600) == doubling
    assert curve_steps(Config(curve="rows"), 1000) == {s: (None, 200 * s) for s in range(1, 6)}


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_votes_of_a_growing_forest_add_up_to_its_own_answers(task):
    digits = load_dataset("", "target")
    x, y = digits.features.to_numpy()[:300], digits.target.iloc[:300]
    forest = MODELS["random_forest"][task](Config(n_estimators=4)).set_params(warm_start=True)
    votes = add_votes(forest.fit(x, y), x, 0, 0)
    votes = add_votes(forest.set_params(n_estimators=10).fit(x, y), x, votes, 4)
    assert np.array_equal(forest_answers(forest, votes), forest.predict(x))  # bit for bit


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"N_ESTIMATORS": "-5"}, "N_ESTIMATORS must be 1 or more, got -5"),
        ({"N_ESTIMATORS": "many"}, "N_ESTIMATORS must be a whole number, got 'many'"),
        ({"MAX_DEPTH": "0"}, "MAX_DEPTH must be 1 or more, or None: 0"),
        ({"TEST_SIZE": "1.5"}, "TEST_SIZE must be between 0 and 1, got 1.5"),
        (
            {"TASK": "ranking"},
            "TASK must be one of auto, classification, regression, got 'ranking'",
        ),
        ({"JOBS": "0"}, "JOBS must be 1 or more, or -1: 0"),
        ({"CURVE": "trees"}, "CURVE must be one of auto, rows, got 'trees'"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(settings, message):
    with pytest.raises(ConfigError, match=message):
        load_config(settings)


def test_optional_numbers_take_none_or_a_number():
    assert load_config({"MAX_DEPTH": "None"}).max_depth is None
    assert load_config({"MAX_DEPTH": "4"}).max_depth == 4


# Settings that train.py refuses once it has read them (MODEL_TYPE) or the data (TEST_SIZE):
# the setting's name, its value, and the error.
REFUSED = {
    "MODEL_TYPE": (
        "bogus",
        "MODEL_TYPE must be one of random_forest, svm, logistic_regression, got 'bogus'",
    ),
    "TEST_SIZE": ("0.001", "TEST_SIZE=0.001 leaves too few of the 1797 rows for 10 classes"),
}


@pytest.fixture(scope="module")
def refused(tmp_path_factory) -> dict:
    """train.py with each setting of REFUSED, side by side, each in a folder of its own:
    the folder and the result of each."""
    folders = {name: tmp_path_factory.mktemp(name) for name in REFUSED}
    processes = {
        name: script_process(folders[name], "train.py", **{name: value})
        for name, (value, _) in REFUSED.items()
    }
    results = side_by_side(processes)
    return {name: (folders[name], results[name]) for name in REFUSED}


@pytest.mark.parametrize("name", REFUSED)
def test_a_bad_setting_stops_the_run_with_one_line_and_leaves_nothing(refused, name):
    folder, result = refused[name]
    _, error = REFUSED[name]
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"error: {error}"]
    assert not (folder / "outputs").exists() and not (folder / "trackio").exists()


def test_dates_become_numbers_and_wide_text_is_capped_and_sparse(tmp_path):
    days = pd.date_range("2020-01-01", periods=300, freq="D")
    names = [f"n{i % 150}" for i in range(300)]
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "name": names})
    frame["label"] = np.where(days.month < 7, "winter", "summer")
    dataset = load_dataset(csv_file(tmp_path, frame.to_csv(index=False)), "label")
    assert list(dataset.features)[:4] == ["day_year", "day_month", "day_weekday", "day_days"]
    assert dataset.facts["columns"]["name"] == "wide text (capped)"
    prepared = preprocessing().fit_transform(dataset.features)
    assert prepared.shape == (300, 4 + MAX_CATEGORIES) and hasattr(prepared, "toarray")  # sparse
    for model_type in MODELS:  # every model takes the sparse columns, for both tasks
        build_model(Config(model_type=model_type, n_estimators=5), "classification").fit(
            dataset.features, dataset.target
        )
        build_model(Config(model_type=model_type, n_estimators=5), "regression").fit(
            dataset.features, dataset.features["day_days"]
        )
