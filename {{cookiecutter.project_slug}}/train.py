"""Train a model with one seed, track it in TrackIO, and record the run in outputs/<run>/."""

import hashlib
import pickle
import signal
import sys
from dataclasses import asdict

import joblib
import numpy as np
import pandas as pd
import trackio
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

import report
from config import Config, ConfigError, load_config
from data import DataError, Dataset, load_dataset, preprocessing
from manifest import build_manifest, choose_run_name, environment_facts, output_dir, save_run
from seeding import seed_everything

PROJECT = "{{ cookiecutter.project_slug }}"
CURVE_STEPS = 5  # the learning curve fits on 20%, 40%, ... 100% of the training rows
MAIN_METRIC = {"classification": "accuracy", "regression": "r2"}
# Every MODEL_TYPE, for each task; each model that draws random numbers takes the run's seed. The forest
# uses one process: in parallel, it sums its trees' votes in a varying order, which moves the last digits.
# To try another model, add it here (and its settings to config.py), then `make train MODEL_TYPE=<its name>`.
MODELS = {
    "random_forest": {
        "classification": lambda c: RandomForestClassifier(c.n_estimators, max_depth=c.max_depth, random_state=c.seed),
        "regression": lambda c: scaled(
            RandomForestRegressor(c.n_estimators, max_depth=c.max_depth, random_state=c.seed)
        ),
    },
    "svm": {
        "classification": lambda c: SVC(C=c.c, random_state=c.seed),
        "regression": lambda c: scaled(SVR(C=c.c)),
    },
    "logistic_regression": {  # for a regression, its linear counterpart: ridge regression
        "classification": lambda c: LogisticRegression(C=c.c, max_iter=2000, random_state=c.seed),
        "regression": lambda c: scaled(Ridge(alpha=1 / c.c, random_state=c.seed)),
    },
}
# The trivial models that every run is scored against: the commonest class, and the mean.
BASELINES = {
    "classification": DummyClassifier(strategy="most_frequent"),
    "regression": DummyRegressor(),
}


def scaled(regressor):
    """The regressor learns the target scaled to mean 0 and spread 1, and answers in its units:
    SVR and ridge assume a target of about that size (SVR answers near the median of a large one)."""
    return TransformedTargetRegressor(regressor, transformer=StandardScaler())


def baseline_scores(task: str, y_train, y_test) -> dict:
    """What the trivial model scores on the test rows: always the commonest class, or the mean."""
    guess = clone(BASELINES[task]).fit(np.zeros((len(y_train), 1)), y_train)
    predicted = guess.predict(np.zeros((len(y_test), 1)))
    return {f"baseline_{key}": value for key, value in scores(task, y_test, predicted).items()}


def build_model(config: Config, task: str):
    """Preprocessing and model in one pipeline, so that the saved model takes the raw columns of new rows."""
    return make_pipeline(preprocessing(), MODELS[config.model_type][task](config))


def scores(task: str, true, predicted) -> dict:
    if task == "classification":
        return {"accuracy": accuracy_score(true, predicted), "f1_macro": f1_score(true, predicted, average="macro")}
    rmse, mae = root_mean_squared_error(true, predicted), mean_absolute_error(true, predicted)
    return {"r2": r2_score(true, predicted), "rmse": rmse, "mae": mae}


def fit_learning_curve(config: Config, task: str, x_train, y_train, x_test, y_test):
    """Fit on a growing share of the training rows, logging the main metric at each step; return the last model."""
    metric = MAIN_METRIC[task]
    for step in range(1, CURVE_STEPS + 1):
        size = max(len(x_train) * step // CURVE_STEPS, 2)
        if task == "classification" and y_train.iloc[:size].nunique() < 2:
            continue  # too few rows for a classifier yet
        model = build_model(config, task).fit(x_train.iloc[:size], y_train.iloc[:size])
        train_score = scores(task, y_train.iloc[:size], model.predict(x_train.iloc[:size]))[metric]
        test_score = scores(task, y_test, model.predict(x_test))[metric]
        trackio.log({f"train/{metric}": train_score, f"test/{metric}": test_score}, step=step)
        print(
            f"step {step}/{CURVE_STEPS}: {size} training rows, {metric} train {train_score:.4f}, test {test_score:.4f}"
        )
    return model


def model_sha256(model) -> str:
    """sha256 of every fitted number, preprocessing included: predictions may agree while the model differs."""
    return hashlib.sha256(pickle.dumps(model, protocol=5)).hexdigest()


def train(config: Config, dataset: Dataset):
    """Split, fit along the learning curve, and score; returns the model, its metrics and test predictions."""
    stratify = dataset.target if dataset.task == "classification" else None  # every class in both parts
    split = {"test_size": config.test_size, "random_state": config.seed, "stratify": stratify}
    train_rows, test_rows = train_test_split(np.arange(len(dataset.target)), **split)
    x_train, y_train = dataset.features.iloc[train_rows], dataset.target.iloc[train_rows]
    x_test, y_test = dataset.features.iloc[test_rows], dataset.target.iloc[test_rows]

    model = fit_learning_curve(config, dataset.task, x_train, y_train, x_test, y_test)
    metric, predicted = MAIN_METRIC[dataset.task], model.predict(x_test)
    metrics = {f"train_{metric}": scores(dataset.task, y_train, model.predict(x_train))[metric]}
    metrics |= {f"test_{key}": value for key, value in scores(dataset.task, y_test, predicted).items()}
    metrics["overfit_gap"] = metrics[f"train_{metric}"] - metrics[f"test_{metric}"]
    metrics |= baseline_scores(dataset.task, y_train, y_test)
    # Each test row, by its row in the data, with its true value and the model's answer: predictions.csv.
    predictions = pd.DataFrame({"row": y_test.index, "true": y_test.to_numpy(), "predicted": predicted})
    return model, metrics, predictions


def main() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `docker stop` ends a run as Ctrl-C does
    try:
        config = load_config()
        if config.model_type not in MODELS:
            raise ConfigError(f"MODEL_TYPE must be one of {', '.join(MODELS)}, got {config.model_type!r}")
        dataset = load_dataset(config.data, config.target, config.task, config.test_size)
        run_name, killed = choose_run_name(config.run_name, config.model_type, config.seed)
    except (ConfigError, DataError) as error:
        sys.exit(f"error: {error}")

    seed_everything(config.seed)
    facts = environment_facts(dataset.facts)
    print(f"Run {run_name}: {config.model_type}, seed {config.seed}, {dataset.task} ({dataset.facts['task_reason']})")
    report.start(PROJECT, run_name, asdict(config), facts, killed)
    try:
        model, metrics, predictions = train(config, dataset)
        manifest = build_manifest(run_name, asdict(config), facts, metrics, predictions, model_sha256(model))
        image = report.picture(dataset.task, predictions)
        report.log_results(manifest, predictions, dataset.task, config.overfit_gap, image)
        print(report.score_line(MAIN_METRIC[dataset.task], metrics))
        model_files = {"model.joblib": lambda path: joblib.dump(model, path)}
        report.log_model(save_run(run_name, manifest, predictions, image, model_files), model_files)
    except (KeyboardInterrupt, OSError) as error:  # Ctrl-C, docker stop, or a full disk
        sys.exit(report.stopped(error, output_dir() / run_name))
    finally:
        report.finish(PROJECT)


if __name__ == "__main__":
    main()
