"""Train a model with one seed, track it in TrackIO, and record the run in outputs/<run>/."""

import trackio_dir  # noqa: F401  first: the project's TrackIO store, before TrackIO is imported

# isort: split
import errno
import gc
import hashlib
import pickle
import signal
import sys
import types
from dataclasses import asdict

import joblib
import numpy as np
import pandas as pd
import trackio
from sklearn.base import clone, is_classifier
from sklearn.compose import TransformedTargetRegressor
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
from sklearn.utils import check_array

import report
from config import Config, ConfigError, load_config
from data import DataError, Dataset, load_dataset, preprocessing
from manifest import build_manifest, environment_facts
from runs import choose_run_name, output_dir, save_run, shown
from seeding import seed_everything

PROJECT = "{{ cookiecutter.project_slug }}"
CURVE_STEPS = 5  # the curve's points: the forest grown in 5 steps, or fits on more and more rows
MAIN_METRIC = {"classification": "accuracy", "regression": "r2"}
SLOW_SVM_ROWS = 20_000  # an SVM's fit grows with the square of the rows: above this, minutes


def forest(kind, c: Config):
    """Each tree draws from its own seed: the trees are the same on any number of cores (JOBS)."""
    return kind(c.n_estimators, max_depth=c.max_depth, random_state=c.seed)


# Every MODEL_TYPE, for each task; each model that draws random numbers takes the run's seed.
# To try another model, add it here (and its settings to config.py),
# then `make train MODEL_TYPE=<its name>`.
MODELS = {
    "random_forest": {
        "classification": lambda c: forest(RandomForestClassifier, c),
        "regression": lambda c: forest(RandomForestRegressor, c),  # splits need no scaled target
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
    SVR and ridge assume a target of about that size
    (SVR answers near the median of a large one)."""
    return TransformedTargetRegressor(regressor, transformer=StandardScaler())


def baseline_scores(task: str, y_train, y_test) -> dict:
    """What the trivial model scores on the test rows: always the commonest class, or the mean."""
    guess = clone(BASELINES[task]).fit(np.zeros((len(y_train), 1)), y_train)
    predicted = guess.predict(np.zeros((len(y_test), 1)))
    return {f"baseline_{key}": value for key, value in scores(task, y_test, predicted).items()}


def build_model(config: Config, task: str):
    """Preprocessing and model in one pipeline,
    so that the saved model takes the raw columns of new rows."""
    return make_pipeline(preprocessing(), MODELS[config.model_type][task](config))


def scores(task: str, true, predicted) -> dict:
    if task == "classification":
        return {
            "accuracy": accuracy_score(true, predicted),
            "f1_macro": f1_score(true, predicted, average="macro"),
        }
    rmse, mae = root_mean_squared_error(true, predicted), mean_absolute_error(true, predicted)
    return {"r2": r2_score(true, predicted), "rmse": rmse, "mae": mae}


def main_score(task: str, true, predicted) -> float:
    """The main metric alone, at every step of the curve: for accuracy, the share of equal answers,
    without scikit-learn's checks of the labels, which cost more than the forest's vote."""
    if task == "classification":
        return float(np.mean(true.to_numpy() == predicted))
    return r2_score(true, predicted)


def curve_steps(config: Config, rows: int) -> dict[int, tuple[int | None, int]]:
    """Each step of the curve: the forest's trees (None for other models) and the training rows it
    fits on. The forest grows on every row, for the cost of one fit; other models fit on 1/16, 1/8,
    ... of the rows, about one fit more; CURVE=rows fits on 20%, 40%, ... 100%: three fits."""
    sizes = {}
    for step in range(1, CURVE_STEPS + 1):
        if config.curve == "auto" and config.model_type == "random_forest":
            size = (max(config.n_estimators * step // CURVE_STEPS, 1), rows)
        elif config.curve == "auto":
            size = (None, max(rows >> (CURVE_STEPS - step), 2))
        else:
            size = (None, max(rows * step // CURVE_STEPS, 2))
        sizes[size] = step  # a size that repeats is fitted once, at its last step
    return {step: size for size, step in sizes.items()}


def fit_step(config: Config, estimator, trees: int | None, last: bool, x, y):
    """One step's model, fitted. The forest fits on JOBS cores, then predicts in one thread, which
    sums its trees' votes in one order: in parallel the order varies, and so do the last digits."""
    if trees is not None:  # warm_start keeps the trees grown so far and adds the new ones
        estimator.set_params(n_estimators=trees, warm_start=True)
    elif not last:  # a smaller model of its own; the last step fits the model that is saved
        estimator = clone(estimator)
    parallel = config.model_type == "random_forest"
    if parallel:
        estimator.set_params(n_jobs=config.jobs)
    estimator.fit(x, y)
    if parallel:  # as if fitted at once on one core: the saved model and its hash are the same
        estimator.set_params(n_jobs=None, warm_start=False)
    return estimator


def add_votes(forest, x, total, first: int):
    """total plus the answers of the forest's trees from the first-th on:
    the sum that forest.predict makes in one thread, in the same order,
    so that the curve's last step gives its very answers."""
    answer = "predict_proba" if is_classifier(forest) else "predict"
    x = check_array(x, dtype=np.float32, accept_sparse="csr")  # as forest.predict hands them on
    for tree in forest.estimators_[first:]:
        total = total + getattr(tree, answer)(x, check_input=False)  # checked once, above
    return total


def forest_answers(forest, total):
    """forest.predict's answers from its trees' summed answers:
    their mean, or the likeliest class."""
    mean = total / len(forest.estimators_)
    return forest.classes_.take(np.argmax(mean, axis=1)) if is_classifier(forest) else mean


def fit_curve(config: Config, task: str, estimator, train_part: tuple, test_part: tuple):
    """Fit along the curve, logging the main metric at each step, on prepared rows (x, y); returns
    the last step's predictions of the training rows and of the test rows."""
    (x, y), (x_test, y_test) = train_part, test_part
    metric = MAIN_METRIC[task]
    sums = (0, 0)  # the votes of the forest's trees so far, on the training rows and the test rows
    voted = 0
    for step, (trees, rows) in curve_steps(config, len(y)).items():
        if task == "classification" and y.iloc[:rows].nunique() < 2:
            continue  # too few rows for a classifier yet
        fitted = fit_step(config, estimator, trees, step == CURVE_STEPS, x[:rows], y.iloc[:rows])
        if trees is None:
            predicted = fitted.predict(x[:rows]), fitted.predict(x_test)
        else:  # only the new trees vote: a whole forest's vote at each step would cost three in all
            sums = add_votes(fitted, x, sums[0], voted), add_votes(fitted, x_test, sums[1], voted)
            predicted = tuple(forest_answers(fitted, total) for total in sums)
            voted = trees
        train_score = main_score(task, y.iloc[:rows], predicted[0])
        test_score = main_score(task, y_test, predicted[1])
        trackio.log({f"train/{metric}": train_score, f"test/{metric}": test_score}, step=step)
        grown = f"{trees} trees, " if trees else ""
        scored = f"{metric} train {train_score:.4f}, test {test_score:.4f}"
        print(f"step {step}/{CURVE_STEPS}: {grown}{rows} training rows, {scored}", flush=True)
    return predicted


def model_sha256(model) -> str:
    """sha256 of every fitted number, preprocessing included: predictions may agree while the model
    differs. pickle writes into the hash as it goes, so the model is never copied in memory."""
    digest = hashlib.sha256()
    pickle.dump(model, types.SimpleNamespace(write=digest.update), protocol=5)
    return digest.hexdigest()


def train(config: Config, dataset: Dataset):
    """Split, fit along the curve, and score; returns the model, its metrics, test predictions."""
    # Every class in both parts.
    stratify = dataset.target if dataset.task == "classification" else None
    split = {"test_size": config.test_size, "random_state": config.seed, "stratify": stratify}
    train_rows, test_rows = train_test_split(np.arange(len(dataset.target)), **split)
    x_train, y_train = dataset.features.iloc[train_rows], dataset.target.iloc[train_rows]
    x_test, y_test = dataset.features.iloc[test_rows], dataset.target.iloc[test_rows]

    if config.model_type == "svm" and len(train_rows) > SLOW_SVM_ROWS:
        slow = f"an SVM on {len(train_rows)} training rows may take many minutes"
        print(f"warning: {slow}: MODEL_TYPE=logistic_regression is much faster", file=sys.stderr)
    model = build_model(config, dataset.task)
    prepare = model[:-1]  # prepared once: each step of the curve fits the last part of the pipeline
    train_part = prepare.fit_transform(x_train), y_train
    test_part = prepare.transform(x_test), y_test
    trained, predicted = fit_curve(config, dataset.task, model[-1], train_part, test_part)
    metric = MAIN_METRIC[dataset.task]
    metrics = {f"train_{metric}": main_score(dataset.task, y_train, trained)}
    tested = scores(dataset.task, y_test, predicted)
    metrics |= {f"test_{key}": value for key, value in tested.items()}
    metrics["overfit_gap"] = metrics[f"train_{metric}"] - metrics[f"test_{metric}"]
    metrics |= baseline_scores(dataset.task, y_train, y_test)
    # predictions.csv: each test row, by its row in the data,
    # with its true value and the model's answer.
    answers = {"row": y_test.index, "true": y_test.to_numpy(), "predicted": predicted}
    predictions = pd.DataFrame(answers)
    return model, metrics, predictions


def main() -> None:
    # The libraries' objects live until the run ends: the garbage collector need not search them
    # again and again, nor at exit (a tenth of a short run's time).
    gc.freeze()
    # `docker stop` ends a run as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        config = load_config()
        if config.model_type not in MODELS:
            raise ConfigError(
                f"MODEL_TYPE must be one of {', '.join(MODELS)}, got {config.model_type!r}"
            )
        dataset = load_dataset(config.data, config.target, config.task, config.test_size)
        run_name, killed = choose_run_name(config.run_name, config.model_type, config.seed)
    except (ConfigError, DataError) as error:
        sys.exit(f"error: {error}")

    seed_everything(config.seed)
    facts = environment_facts(dataset.facts)
    task = f"{dataset.task} ({dataset.facts['task_reason']})"
    print(f"Run {run_name}: {config.model_type}, seed {config.seed}, {task}")
    report.start(PROJECT, run_name, asdict(config), facts, killed)
    try:
        model, metrics, predictions = train(config, dataset)
        digest = model_sha256(model)
        manifest = build_manifest(run_name, asdict(config), facts, metrics, predictions, digest)
        image = report.picture(dataset.task, predictions)
        report.log_results(manifest, predictions, dataset.task, config.overfit_gap, image)
        print(report.score_line(MAIN_METRIC[dataset.task], metrics))
        model_files = {"model.joblib": model}  # the whole pipeline, in one file
        run_dir = save_run(run_name, manifest, predictions, image, model_files, joblib.dump)
        print(f"Outputs in {shown(run_dir)}, fingerprint {manifest['result']['fingerprint'][:12]}")
        report.log_model(run_dir, model_files)
    except KeyboardInterrupt:  # Ctrl-C, or docker stop
        sys.exit(report.stopped("the run was interrupted", output_dir() / run_name))
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise  # not a full disk: a fault of the code, with its traceback
        full = "the disk is full: free some space, then train again"
        sys.exit(report.stopped(full, output_dir() / run_name))
    finally:
        report.finish(PROJECT)


if __name__ == "__main__":
    main()
