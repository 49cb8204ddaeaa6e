"""Train a model with one seed, save what it did in outputs/<run>/, and track the run with TrackIO."""

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
# TrackIO reads TRACKIO_DIR once, when it is imported: set it first, so runs land in this project.
os.environ.setdefault("TRACKIO_DIR", str(PROJECT_DIR / ".trackio"))

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import trackio  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from config import Config, ConfigError, load_config  # noqa: E402
from data import DataError, Dataset, load_dataset  # noqa: E402
from manifest import environment_facts  # noqa: E402
from report import choose_run_name, report_run, track_run  # noqa: E402
from seeding import seed_everything  # noqa: E402

PROJECT = "{{ cookiecutter.project_slug }}"
CURVE_STEPS = 10  # the learning curve fits on 10%, 20%, ... 100% of the training set


def build_model(config: Config):
    # Every estimator takes the one seed as random_state.
    if config.model_type == "random_forest":
        return RandomForestClassifier(n_estimators=config.n_estimators, random_state=config.seed, n_jobs=-1)
    if config.model_type == "svm":
        return make_pipeline(StandardScaler(), SVC(C=config.c, random_state=config.seed))
    return make_pipeline(StandardScaler(), LogisticRegression(C=config.c, max_iter=2000, random_state=config.seed))


def fit_learning_curve(config: Config, x_train, y_train, x_test, y_test):
    """Fit on a growing share of the training set, logging accuracy at each step; return the last model."""
    for step in range(1, CURVE_STEPS + 1):
        size = len(x_train) * step // CURVE_STEPS
        if np.unique(y_train[:size]).size < 2:
            continue  # too few rows for a classifier yet
        model = build_model(config).fit(x_train[:size], y_train[:size])
        train_accuracy = accuracy_score(y_train[:size], model.predict(x_train[:size]))
        test_accuracy = accuracy_score(y_test, model.predict(x_test))
        trackio.log({"train/accuracy": train_accuracy, "test/accuracy": test_accuracy}, step=step)
        print(f"step {step}/{CURVE_STEPS}: {size} training rows, train {train_accuracy:.4f}, test {test_accuracy:.4f}")
    return model


def train(config: Config, dataset: Dataset, run_name: str, environment: dict) -> dict:
    indices = np.arange(len(dataset.labels))
    _, class_counts = np.unique(dataset.labels, return_counts=True)
    train_rows, test_rows = train_test_split(
        indices,
        test_size=config.test_size,
        random_state=config.seed,
        stratify=dataset.labels if class_counts.min() >= 2 else None,
    )
    x_train, y_train = dataset.features[train_rows], dataset.labels[train_rows]
    x_test, y_test = dataset.features[test_rows], dataset.labels[test_rows]

    model = fit_learning_curve(config, x_train, y_train, x_test, y_test)
    predicted = model.predict(x_test)
    metrics = {
        "train_accuracy": accuracy_score(y_train, model.predict(x_train)),
        "test_accuracy": accuracy_score(y_test, predicted),
        "test_f1_macro": f1_score(y_test, predicted, average="macro"),
    }
    metrics["overfit_gap"] = metrics["train_accuracy"] - metrics["test_accuracy"]

    predictions = pd.DataFrame({"row": test_rows, "true": y_test, "predicted": predicted})
    labels = np.unique(dataset.labels)

    def save_model(folder: Path) -> None:
        joblib.dump(model, folder / "model.joblib")

    return report_run(run_name, config, environment, metrics, predictions, labels, save_model)


def main() -> None:
    try:
        config = load_config()
        dataset = load_dataset(config.data, config.target)
        run_name = choose_run_name(config.run_name, config.model_type, config.seed)
    except (ConfigError, DataError) as error:
        sys.exit(f"error: {error}")

    seed_everything(config.seed)
    environment = environment_facts(dataset.facts)
    data_name = dataset.facts.get("file", dataset.facts.get("name"))
    print(f"Run {run_name}: {config.model_type}, seed {config.seed}, data {data_name}")
    track_run(PROJECT, run_name, config, environment, lambda: train(config, dataset, run_name, environment))


if __name__ == "__main__":
    main()
