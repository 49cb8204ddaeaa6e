"""The run in TrackIO: its config at the start, then its results, a picture of its predictions,
and alerts."""

import trackio_dir  # noqa: F401  first: the project's TrackIO store, before TrackIO is imported

# isort: split
import contextlib
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import trackio
from sklearn.metrics import classification_report, confusion_matrix

import store

BLUE = np.array([8, 48, 107])
WHITE = np.array([255, 255, 255])


@dataclass(frozen=True)
class Picture:
    """A picture of the predictions: its name (the file is <name>.png) and its RGB pixels."""

    name: str
    pixels: np.ndarray


def start(project: str, run_name: str, config: dict, facts: dict, killed: list[str]) -> None:
    store.check(project)
    store.mark_killed(project, killed)
    # No CPU or GPU sampling (the records hold what the run decides), no dashboard of its own.
    quiet = {"auto_log_cpu": False, "auto_log_gpu": False, "embed": False}
    settings = {"group": config["group"] or None, "config": config | {"environment": facts}}
    # TrackIO's banner names a command of its own, which does not reach the container's store.
    with contextlib.redirect_stdout(io.StringIO()):
        trackio.init(project=project, name=run_name, **quiet, **settings)
    print("Tracked in TrackIO: make dashboard shows the run")


def log_model(run_dir: Path, names) -> None:
    """The saved model as an artifact of the run, listed on the dashboard's Artifacts page."""
    artifact = trackio.Artifact(f"{run_dir.name}-model", type="model")
    for name in names:
        artifact.add_file(run_dir / name)
    try:
        trackio.log_artifact(artifact)
    except OSError:  # a full disk: train.py says so
        raise
    except Exception as error:
        # e.g. a tracking server that went away: the model is safe in outputs/ all the same
        missing = f"the model is not in TrackIO ({type(error).__name__})"
        print(f"warning: {missing}; it is in {run_dir}", file=sys.stderr)


def stopped(reason: str, run_dir: Path) -> str:
    """An alert marks a run that stopped early (TrackIO keeps no run status);
    returns the line that says so."""
    if run_dir.exists():
        kept = f"its outputs are complete in outputs/{run_dir.name}/"
    else:
        kept = "nothing was saved"
    trackio.alert(title="Stopped", text=f"{reason}; {kept}", level=trackio.AlertLevel.ERROR)
    return f"error: {reason}; {kept}"


def finish(project: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # TrackIO's words on where its logs went
        trackio.finish()
    store.check_sent(project)


def picture(task: str, predictions: pd.DataFrame) -> Picture:
    """The confusion matrix (rows: true classes), or predicted (up) against true values (right)."""
    true = predictions["true"]
    predicted = predictions["predicted"]
    if task == "classification":
        matrix = confusion_matrix(true, predicted, labels=np.unique([*true, *predicted]))
        share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        # about 512 pixels wide, whatever the number of classes
        cell = np.ones((max(512 // len(matrix), 1),) * 2 + (1,))
        colours = WHITE + share[..., None] * (BLUE - WHITE)
        return Picture("confusion_matrix", np.kron(colours, cell).astype(np.uint8))
    low = min(true.min(), predicted.min())
    high = max(true.max(), predicted.max())
    x, y = (
        ((values - low) / (high - low or 1) * 253 + 1).astype(int) for values in (true, predicted)
    )
    pixels = np.full((256, 256, 3), 255, np.uint8)
    # the diagonal, where every dot of a perfect model lies
    pixels[np.arange(255, -1, -1), np.arange(256)] = 200
    for dx, dy in np.ndindex(3, 3):
        pixels[255 - y - dy + 1, x + dx - 1] = BLUE
    return Picture("predicted_vs_true", pixels)


def log_results(
    manifest: dict, predictions: pd.DataFrame, task: str, overfit_gap: float, image: Picture
) -> None:
    """The final metrics and the manifest as tables, so that the curves come first on the
    dashboard."""
    metrics = manifest["result"]["metrics"]
    rows = [(key, json.dumps(value)) for key, value in manifest.items()]
    tables = {
        "results": pd.DataFrame([metrics]),
        "manifest": pd.DataFrame(rows, columns=["key", "value"]),
    }
    if task == "classification":
        per_class = classification_report(
            predictions["true"], predictions["predicted"], output_dict=True, zero_division=0
        )
        labels = [str(label) for label in np.unique(predictions["true"])]
        tables["per_class"] = pd.DataFrame(
            [{"class": label, **per_class[label]} for label in labels]
        )
    logged = {key: trackio.Table(dataframe=table) for key, table in tables.items()}
    logged[image.name] = trackio.Image(image.pixels)
    trackio.log(logged)
    if not beats_baseline(metrics):
        metric = "accuracy" if task == "classification" else "r2"
        scored = f"{metrics['test_' + metric]:.4f} against {metrics['baseline_' + metric]:.4f}"
        text = f"the model does no better than always giving the same answer ({metric} {scored})"
        trackio.alert(title="No better than the baseline", text=text, level=trackio.AlertLevel.WARN)
    if metrics["overfit_gap"] > overfit_gap:
        gap = f"{metrics['overfit_gap']:.3f} above the test score"
        text = f"the train score is {gap} (OVERFIT_GAP={overfit_gap})"
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
