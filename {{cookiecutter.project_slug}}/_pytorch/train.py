"""Train a small neural network with one seed, track it in TrackIO,
and record the run in outputs/<run>/."""

import trackio_dir  # noqa: F401  first: the project's TrackIO store, before TrackIO is imported

# isort: split
import errno
import gc
import hashlib
import signal
import sys
from dataclasses import asdict
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import torch
import trackio
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import report
from config import Config, ConfigError, load_config
from data import DataError, Dataset, load_dataset, preprocessing
from manifest import build_manifest, environment_facts
from runs import choose_run_name, output_dir, save_run, shown
from seeding import seed_everything, seed_worker

PROJECT = "{{ cookiecutter.project_slug }}"
MAIN_METRIC = {"classification": "accuracy", "regression": "r2"}


def build_model(n_features: int, n_outputs: int, config: Config) -> nn.Module:
    # One output per class for a classification (cross-entropy);
    # one number for a regression (squared error).
    return nn.Sequential(
        nn.Linear(n_features, config.hidden), nn.ReLU(), nn.Linear(config.hidden, n_outputs)
    )


def make_loader(dataset: torch.utils.data.Dataset, config: Config) -> DataLoader:
    """Shuffled batches in the same order on every run: a seeded generator, and workers seeded
    from it. No persistent_workers: they draw from the generator differently,
    so NUM_WORKERS would change the batches."""
    generator = torch.Generator().manual_seed(config.seed)
    return DataLoader(
        dataset,
        config.batch_size,
        shuffle=True,
        num_workers=config.num_workers,
        worker_init_fn=seed_worker,
        generator=generator,
    )


def scores(task: str, true, predicted) -> dict:
    if task == "classification":
        return {
            "accuracy": accuracy_score(true, predicted),
            "f1_macro": f1_score(true, predicted, average="macro"),
        }
    rmse, mae = root_mean_squared_error(true, predicted), mean_absolute_error(true, predicted)
    return {"r2": r2_score(true, predicted), "rmse": rmse, "mae": mae}


def main_score(task: str, true, predicted) -> float:
    """The main metric alone, at every epoch: for accuracy, the share of equal answers, without
    scikit-learn's checks of the labels, which cost as much as the epoch itself on the digits."""
    if task == "classification":
        return float(np.mean(true.to_numpy() == predicted))
    return r2_score(true, predicted)


def choose_device(setting: str) -> torch.device:
    # is_available() asks the driver without starting CUDA,
    # so seeding can still set up cuBLAS afterwards.
    if setting == "cuda" and not torch.cuda.is_available():
        instead = "use DEVICE=cpu, or run with `make train GPU=1`"
        raise ConfigError(f"DEVICE=cuda, but torch sees no GPU here; {instead}")
    if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def device_facts(device: torch.device) -> dict:
    """What the network ran on and with: GPU results depend on the GPU and its libraries."""
    return {
        "type": device.type,
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,  # None in a CPU-only build of torch
        "cudnn": torch.backends.cudnn.version(),
        # CPU sums may round differently with another thread count
        "cpu_threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "determinism_warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
    }


def model_sha256(model: nn.Module) -> str:
    """sha256 of every weight with its name: equal only for bit-identical weights."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode() + tensor.cpu().numpy().tobytes())
    return digest.hexdigest()


def write_model(part, path: Path) -> None:
    """The weights in torch's own format, the preprocessing in joblib's."""
    if path.suffix == ".pt":
        torch.save(part, path)
    else:
        joblib.dump(part, path)


def train(config: Config, dataset: Dataset, device: torch.device):
    """Split, train epoch by epoch, and score;
    returns the preprocessing, model, metrics and test predictions."""
    task = dataset.task
    target = dataset.target
    stratify = target if task == "classification" and target.value_counts().min() >= 3 else None
    split = {"random_state": config.seed}
    train_rows, test_rows = train_test_split(
        np.arange(len(target)), test_size=config.test_size, stratify=stratify, **split
    )
    stratify = stratify.iloc[train_rows] if stratify is not None else None
    train_rows, val_rows = train_test_split(
        train_rows, test_size=config.val_size, stratify=stratify, **split
    )
    prepare = preprocessing(dense=True).fit(dataset.features.iloc[train_rows])
    x = torch.as_tensor(prepare.transform(dataset.features), dtype=torch.float32)
    if task == "classification":
        classes, y = np.unique(target, return_inverse=True)
        y = torch.as_tensor(y)
        loss_function = nn.CrossEntropyLoss()
        n_outputs = len(classes)
    else:
        # The network learns the target scaled as the training rows were,
        # and answers in its own terms.
        mean = target.iloc[train_rows].mean()
        std = target.iloc[train_rows].std() or 1.0
        y = torch.as_tensor((target.to_numpy() - mean) / std, dtype=torch.float32)[:, None]
        loss_function = nn.MSELoss()
        n_outputs = 1

    model = build_model(x.shape[1], n_outputs, config).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)

    @torch.no_grad()
    def predict(rows: np.ndarray) -> np.ndarray:
        model.eval()
        output = model(x[rows].to(device)).cpu()
        if task == "classification":
            return classes[output.argmax(dim=1).numpy()]
        return output[:, 0].numpy() * std + mean

    metric = MAIN_METRIC[task]
    loader = make_loader(TensorDataset(x[train_rows], y[train_rows]), config)
    for epoch in range(1, config.epochs + 1):
        model.train()
        losses = []
        for features, answers in loader:
            optimiser.zero_grad()
            loss = loss_function(model(features.to(device)), answers.to(device))
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        with torch.no_grad():
            val_loss = loss_function(model(x[val_rows].to(device)), y[val_rows].to(device)).item()
        curve = {"train/loss": float(np.mean(losses)), "val/loss": val_loss}
        for name, rows in (("train", train_rows), ("val", val_rows)):
            curve[f"{name}/{metric}"] = main_score(task, target.iloc[rows], predict(rows))
        trackio.log(curve, step=epoch)
        logged = ", ".join(f"{key} {value:.4f}" for key, value in curve.items())
        print(f"epoch {epoch}/{config.epochs}: {logged}")

    predicted = predict(test_rows)
    true = target.iloc[test_rows]
    metrics = {f"train_{metric}": curve[f"train/{metric}"], f"val_{metric}": curve[f"val/{metric}"]}
    metrics |= {f"test_{key}": value for key, value in scores(task, true, predicted).items()}
    metrics["overfit_gap"] = metrics[f"train_{metric}"] - metrics[f"test_{metric}"]
    metrics |= baseline_scores(task, target.iloc[train_rows], true)
    predictions = pd.DataFrame({"row": true.index, "true": true.to_numpy(), "predicted": predicted})
    return prepare, model, metrics, predictions


def baseline_scores(task: str, y_train: pd.Series, y_test: pd.Series) -> dict:
    """What the trivial answer scores on the test rows: always the commonest class (the smallest,
    where two are as common), or the mean. The network must beat it."""
    guess = y_train.mode().iloc[0] if task == "classification" else y_train.mean()
    predicted = np.repeat(guess, len(y_test))
    return {f"baseline_{key}": value for key, value in scores(task, y_test, predicted).items()}


def main() -> None:
    # The libraries' objects live until the run ends: the garbage collector need not search them
    # again and again, nor at exit (a tenth of a short run's time).
    gc.freeze()
    # `docker stop` ends a run as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        config = load_config()
        dataset = load_dataset(config.data, config.target, config.task, config.test_size)
        run_name, killed = choose_run_name(config.run_name, "mlp", config.seed)
        device = choose_device(config.device)
    except (ConfigError, DataError) as error:
        sys.exit(f"error: {error}")

    # Before anything touches CUDA: seeding checks that cuBLAS will start deterministic.
    seed_everything(config.seed, warn_only=config.determinism == "warn")
    # How torch splits a sum between CPU threads changes its rounding.
    torch.set_num_threads(config.threads)
    facts = environment_facts(dataset.facts) | {"device": device_facts(device)}
    task = f"{dataset.task} ({dataset.facts['task_reason']})"
    print(f"Run {run_name}: mlp, seed {config.seed}, {device.type}, {task}")
    report.start(PROJECT, run_name, asdict(config), facts, killed)
    try:
        prepare, model, metrics, predictions = train(config, dataset, device)
        digest = model_sha256(model)
        manifest = build_manifest(run_name, asdict(config), facts, metrics, predictions, digest)
        image = report.picture(dataset.task, predictions)
        report.log_results(manifest, predictions, dataset.task, config.overfit_gap, image)
        metric = MAIN_METRIC[dataset.task]
        print(report.score_line(metric, metrics))
        # The weights on the CPU, so that they load on any machine;
        # the preprocessing takes raw rows to the network.
        weights = {name: value.cpu() for name, value in model.state_dict().items()}
        model_files = {"model.pt": weights, "preprocessing.joblib": prepare}
        run_dir = save_run(run_name, manifest, predictions, image, model_files, write_model)
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
