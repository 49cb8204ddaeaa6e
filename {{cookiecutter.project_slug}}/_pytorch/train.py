"""Train a small neural network with one seed, save what it did in outputs/<run>/, and track the run with TrackIO."""

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
# TrackIO reads TRACKIO_DIR once, when it is imported: set it first, so runs land in this project.
os.environ.setdefault("TRACKIO_DIR", str(PROJECT_DIR / ".trackio"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import trackio  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from config import Config, ConfigError, load_config  # noqa: E402
from data import DataError, Dataset, load_dataset  # noqa: E402
from device import choose_device, torch_facts  # noqa: E402
from manifest import environment_facts  # noqa: E402
from report import choose_run_name, report_run, track_run  # noqa: E402
from seeding import seed_everything, seed_worker, torch_generator  # noqa: E402

PROJECT = "{{ cookiecutter.project_slug }}"
MODEL_NAME = "mlp"


class Standardize(nn.Module):
    """Scale raw features as the training rows were scaled; as buffers, the scaling is saved with the weights."""

    def __init__(self, train_features: torch.Tensor):
        super().__init__()
        std = train_features.std(dim=0, correction=0)
        self.register_buffer("mean", train_features.mean(dim=0))
        self.register_buffer("std", std.masked_fill(std == 0, 1.0))  # constant columns, e.g. blank border pixels

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.mean) / self.std


def build_model(train_features: torch.Tensor, n_classes: int, config: Config) -> nn.Module:
    return nn.Sequential(
        Standardize(train_features),
        nn.Linear(train_features.shape[1], config.hidden),
        nn.ReLU(),
        nn.Linear(config.hidden, n_classes),
    )


def make_loader(dataset: torch.utils.data.Dataset, config: Config) -> DataLoader:
    """Shuffled batches in the same order on every run: a seeded generator, and workers seeded from it.
    No persistent_workers: they would draw from the generator differently, so NUM_WORKERS would change
    the batches; without them, workers only change the speed."""
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        num_workers=config.num_workers,
        worker_init_fn=seed_worker,
        generator=torch_generator(config.seed),
    )


def split_rows(config: Config, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test rows, stratified by class wherever every class has at least two rows."""

    def split(rows: np.ndarray, share: float) -> list[np.ndarray]:
        _, class_counts = np.unique(targets[rows], return_counts=True)
        stratify = targets[rows] if class_counts.min() >= 2 else None
        return train_test_split(rows, test_size=share, random_state=config.seed, stratify=stratify)

    train_rows, test_rows = split(np.arange(len(targets)), config.test_size)
    train_rows, val_rows = split(train_rows, config.val_size)
    return train_rows, val_rows, test_rows


def train_epoch(model, loader, optimiser, loss_function, device) -> tuple[float, float]:
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for features, targets in loader:
        features, targets = features.to(device), targets.to(device)
        optimiser.zero_grad()
        logits = model(features)
        loss = loss_function(logits, targets)
        loss.backward()
        optimiser.step()
        loss_sum += loss.item() * len(targets)
        correct += (logits.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    return loss_sum / seen, correct / seen


@torch.no_grad()
def evaluate(model, features, targets, loss_function) -> tuple[float, float, torch.Tensor]:
    """Loss, accuracy and predicted classes on one split, in a single batch."""
    model.eval()
    logits = model(features)
    predicted = logits.argmax(dim=1)
    return loss_function(logits, targets).item(), (predicted == targets).sum().item() / len(targets), predicted


def train(config: Config, dataset: Dataset, device: torch.device, run_name: str, environment: dict) -> dict:
    classes, class_indices = np.unique(dataset.labels, return_inverse=True)
    train_rows, val_rows, test_rows = split_rows(config, class_indices)
    features = torch.as_tensor(dataset.features, dtype=torch.float32)
    targets = torch.as_tensor(class_indices)

    def on_device(rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        return features[rows].to(device), targets[rows].to(device)

    model = build_model(features[train_rows], len(classes), config).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_function = nn.CrossEntropyLoss()
    loader = make_loader(TensorDataset(features[train_rows], targets[train_rows]), config)
    for epoch in range(1, config.epochs + 1):
        train_loss, train_accuracy = train_epoch(model, loader, optimiser, loss_function, device)
        val_loss, val_accuracy, _ = evaluate(model, *on_device(val_rows), loss_function)
        trackio.log(
            {
                "train/loss": train_loss,
                "train/accuracy": train_accuracy,
                "val/loss": val_loss,
                "val/accuracy": val_accuracy,
            },
            step=epoch,
        )
        print(
            f"epoch {epoch}/{config.epochs}: train loss {train_loss:.4f}, accuracy {train_accuracy:.4f};"
            f" val loss {val_loss:.4f}, accuracy {val_accuracy:.4f}"
        )

    _, train_accuracy, _ = evaluate(model, *on_device(train_rows), loss_function)
    _, test_accuracy, predicted = evaluate(model, *on_device(test_rows), loss_function)
    y_true, y_pred = classes[targets[test_rows].numpy()], classes[predicted.cpu().numpy()]
    metrics = {
        "train_accuracy": train_accuracy,
        "val_accuracy": val_accuracy,
        "test_accuracy": test_accuracy,
        "test_f1_macro": f1_score(y_true, y_pred, average="macro"),
        "overfit_gap": train_accuracy - test_accuracy,
    }

    predictions = pd.DataFrame({"row": test_rows, "true": y_true, "predicted": y_pred})

    def save_model(folder: Path) -> None:
        # On the CPU, so that the weights load on any machine.
        torch.save({name: tensor.cpu() for name, tensor in model.state_dict().items()}, folder / "model.pt")

    return report_run(run_name, config, environment, metrics, predictions, classes, save_model)


def main() -> None:
    try:
        config = load_config()
        dataset = load_dataset(config.data, config.target)
        run_name = choose_run_name(config.run_name, MODEL_NAME, config.seed)
        device = choose_device(config.device)
    except (ConfigError, DataError) as error:
        sys.exit(f"error: {error}")

    # Before anything touches CUDA: seeding checks that cuBLAS will start deterministic.
    seed_everything(config.seed)
    # How torch splits a sum between CPU threads changes its rounding: fix the count, like the seed.
    torch.set_num_threads(config.threads)
    environment = {**environment_facts(dataset.facts), "torch": torch_facts(device)}
    data_name = dataset.facts.get("file", dataset.facts.get("name"))
    print(f"Run {run_name}: {MODEL_NAME}, seed {config.seed}, {device.type}, data {data_name}")
    track_run(PROJECT, run_name, config, environment, lambda: train(config, dataset, device, run_name, environment))


if __name__ == "__main__":
    main()
