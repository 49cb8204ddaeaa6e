"""The run in TrackIO: its config at the start, then its results, a picture of its predictions, and alerts."""

import errno
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import trackio
from sklearn.metrics import classification_report, confusion_matrix

import store

BLUE, WHITE = np.array([8, 48, 107]), np.array([255, 255, 255])


def start(project: str, run_name: str, config: dict, facts: dict, killed: list[str]) -> None:
    store.check(project)
    store.mark_killed(project, killed)
    # No CPU or GPU sampling (the records hold what the run decides), no dashboard of its own (embed).
    quiet = {"auto_log_cpu": False, "auto_log_gpu": False, "embed": False}
    settings = {"group": config["group"] or None, "config": config | {"environment": facts}}
    trackio.init(project=project, name=run_name, **quiet, **settings)


def log_model(run_dir: Path, names) -> None:
    """The saved model as an artifact of the run, listed on the dashboard's Artifacts page."""
    artifact = trackio.Artifact(f"{run_dir.name}-model", type="model")
    for name in names:
        artifact.add_file(run_dir / name)
    try:
        trackio.log_artifact(artifact)
    except OSError:  # a full disk: train.py says so
        raise
    except Exception as error:  # e.g. a tracking server that went away: the model is safe in outputs/ all the same
        print(f"warning: the model is not in TrackIO ({type(error).__name__}); it is in {run_dir}", file=sys.stderr)


def stopped(error: BaseException, run_dir: Path) -> str:
    """An alert marks a run that stopped early (TrackIO keeps no run status); returns the line that says so."""
    if isinstance(error, OSError) and error.errno != errno.ENOSPC:
        raise error  # not a full disk: a fault of the code, with its traceback
    full = "the disk is full: free some space, then train again"
    reason = full if isinstance(error, OSError) else "the run was interrupted"
    kept = f"its outputs are complete in outputs/{run_dir.name}/" if run_dir.exists() else "nothing was saved"
    trackio.alert(title="Stopped", text=f"{reason}; {kept}", level=trackio.AlertLevel.ERROR)
    return f"error: {reason}; {kept}"


def finish(project: str) -> None:
    trackio.finish()
    store.check_sent(project)


def picture(task: str, predictions: pd.DataFrame) -> tuple[str, np.ndarray]:
    """As RGB pixels: the confusion matrix (rows: true classes), or predicted (up) against true values (right)."""
    true, predicted = predictions["true"], predictions["predicted"]
    if task == "classification":
        matrix = confusion_matrix(true, predicted, labels=np.unique([*true, *predicted]))
        share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        cell = np.ones((max(512 // len(matrix), 1),) * 2 + (1,))  # about 512 pixels wide, whatever the classes
        return "confusion_matrix", np.kron(WHITE + share[..., None] * (BLUE - WHITE), cell).astype(np.uint8)
    low, high = min(true.min(), predicted.min()), max(true.max(), predicted.max())
    x, y = (((values - low) / (high - low or 1) * 253 + 1).astype(int) for values in (true, predicted))
    pixels = np.full((256, 256, 3), 255, np.uint8)
    pixels[np.arange(255, -1, -1), np.arange(256)] = 200  # the diagonal, where every dot of a perfect model lies
    for dx, dy in np.ndindex(3, 3):
        pixels[255 - y - dy + 1, x + dx - 1] = BLUE
    return "predicted_vs_true", pixels


def log_results(manifest: dict, predictions: pd.DataFrame, task: str, overfit_gap: float, image) -> None:
    """The final metrics and the manifest as tables, so that the curves come first on the dashboard."""
    metrics = manifest["result"]["metrics"]
    rows = [(key, json.dumps(value)) for key, value in manifest.items()]
    tables = {"results": pd.DataFrame([metrics]), "manifest": pd.DataFrame(rows, columns=["key", "value"])}
    if task == "classification":
        per_class = classification_report(
            predictions["true"], predictions["predicted"], output_dict=True, zero_division=0
        )
        labels = [str(label) for label in np.unique(predictions["true"])]
        tables["per_class"] = pd.DataFrame([{"class": label, **per_class[label]} for label in labels])
    trackio.log(
        {key: trackio.Table(dataframe=table) for key, table in tables.items()} | {image[0]: trackio.Image(image[1])}
    )
    if not beats_baseline(metrics):
        metric = "accuracy" if task == "classification" else "r2"
        scored = f"{metrics['test_' + metric]:.4f} against {metrics['baseline_' + metric]:.4f}"
        text = f"the model does no better than always giving the same answer ({metric} {scored})"
        trackio.alert(title="No better than the baseline", text=text, level=trackio.AlertLevel.WARN)
    if metrics["overfit_gap"] > overfit_gap:
        text = f"the train score is {metrics['overfit_gap']:.3f} above the test score (OVERFIT_GAP={overfit_gap})"
        trackio.alert(title="Overfitting", text=text, level=trackio.AlertLevel.WARN)


def beats_baseline(metrics: dict) -> bool:
    """Whether the test score is above the trivial model's (the commonest class, or the mean)."""
    metric = "accuracy" if "test_accuracy" in metrics else "r2"
    if f"baseline_{metric}" not in metrics:
        return True
    return metrics[f"test_{metric}"] > metrics[f"baseline_{metric}"]


def score_line(metric: str, metrics: dict) -> str:
    """The test score beside the baseline's, and a warning when the model does not beat it."""
    line = f"Test {metric}: {metrics['test_' + metric]:.4f}"
    if f"baseline_{metric}" not in metrics:
        return line
    line += f" (baseline, always the same answer: {metrics['baseline_' + metric]:.4f})"
    if beats_baseline(metrics):
        return line
    return line + "\nwarning: the model does no better than the baseline (docs/data.md says why)"
