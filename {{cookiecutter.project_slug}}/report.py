"""What a finished run leaves behind: its results in TrackIO, and outputs/<run>/ on disk."""

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import trackio
from PIL import Image
from sklearn.metrics import classification_report, confusion_matrix

from manifest import build_manifest, flatten
from settings import ConfigError

OUTPUT_DIR = Path(os.environ.get("OUTPUT_DIR", Path(__file__).resolve().parent / "outputs"))


def choose_run_name(requested: str, model_name: str, seed: int) -> str:
    """RUN_NAME if it is free, or else <model>-seed<seed>-<time>, numbered if two runs start in one second."""
    if requested:
        if (OUTPUT_DIR / requested).exists():
            raise ConfigError(f"RUN_NAME {requested!r} already exists in {OUTPUT_DIR}; choose another name")
        return requested
    base = f"{model_name}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    name, count = base, 1
    while (OUTPUT_DIR / name).exists():
        count += 1
        name = f"{base}-{count}"
    return name


def confusion_image(y_true, y_pred, labels) -> np.ndarray:
    """The confusion matrix as an RGB picture: the darker a cell, the more of its row landed there."""
    matrix = confusion_matrix(y_true, y_pred, labels=labels).astype(float)
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    white, blue = np.array([255.0, 255.0, 255.0]), np.array([8.0, 48.0, 107.0])
    cells = white + share[..., None] * (blue - white)
    return np.kron(cells, np.ones((32, 32, 1))).astype(np.uint8)


def track_run(project: str, run_name: str, config, environment: dict, train: Callable[[], dict]) -> dict:
    """Run `train` as one TrackIO run that records the config and environment; returns its manifest."""
    tracked_config = {**config.as_dict(), "environment": environment}
    trackio.init(project=project, name=run_name, config=tracked_config, auto_log_cpu=False, auto_log_gpu=False)
    try:
        manifest = train()
    finally:
        trackio.finish()
    result = manifest["result"]
    print(f"Test accuracy {result['metrics']['test_accuracy']:.4f}, fingerprint {result['fingerprint'][:12]}")
    print(f"Outputs in {OUTPUT_DIR / run_name}")
    return manifest


def report_run(
    run_name: str,
    config,
    environment: dict,
    metrics: dict,
    predictions: pd.DataFrame,
    labels: np.ndarray,
    save_model: Callable[[Path], None],
) -> dict:
    """Log the final metrics, a per-class table, the confusion matrix and any overfitting alert to TrackIO,
    then write outputs/<run>/. `predictions` has the columns row, true and predicted; returns the manifest."""
    report = classification_report(
        predictions["true"], predictions["predicted"], labels=labels, output_dict=True, zero_division=0
    )
    per_class = pd.DataFrame([{"class": label, **report[str(label)]} for label in labels])
    picture = confusion_image(predictions["true"], predictions["predicted"], labels)
    trackio.log(
        {
            **{f"final/{key}": value for key, value in metrics.items()},
            "per_class": trackio.Table(dataframe=per_class.rename(columns={"f1-score": "f1"})),
            "confusion_matrix": trackio.Image(picture, caption="rows: true class, columns: predicted"),
        }
    )
    if metrics["overfit_gap"] > config.overfit_gap:
        trackio.alert(
            title="Overfitting",
            text=f"train accuracy is {metrics['overfit_gap']:.3f} above test (OVERFIT_GAP={config.overfit_gap})",
            level=trackio.AlertLevel.WARN,
        )
    manifest = build_manifest(run_name, config.as_dict(), environment, metrics, predictions.to_numpy().tolist())
    manifest_rows = pd.DataFrame(flatten(manifest).items(), columns=["key", "value"])
    trackio.log({"manifest": trackio.Table(dataframe=manifest_rows)})
    save_outputs(OUTPUT_DIR / run_name, manifest, predictions, picture, save_model)
    return manifest


def save_outputs(run_dir: Path, manifest: dict, predictions: pd.DataFrame, picture, save_model) -> None:
    """Write into a hidden folder, then rename it: an interrupted run leaves no half-written outputs."""
    partial = run_dir.with_name(f".partial-{run_dir.name}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / "metrics.json").write_text(json.dumps(manifest["result"]["metrics"], indent=2, sort_keys=True) + "\n")
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    predictions.to_csv(partial / "predictions.csv", index=False)
    Image.fromarray(picture).save(partial / "confusion_matrix.png")
    save_model(partial)
    partial.rename(run_dir)
