"""Where runs live (outputs/<run>/), how a run is named, and how it is saved all at once.
A run holds its folder locked while it lives:
the next run can tell a killed run from a running one."""

import atexit
import fcntl
import itertools
import json
import os
import shutil
import time
from pathlib import Path

from PIL import Image

from config import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent
HELD = []  # this run's .partial- folder, open and so locked until the process ends
RESULTS_DIR = PROJECT_DIR / "results"  # runs handed in (make submit), which git tracks


def output_dir() -> Path:
    return Path(os.environ.get("OUTPUT_DIR", PROJECT_DIR / "outputs"))


def shown(path: Path) -> str:
    """path as the student sees it: from the project folder, on the host as in the container."""
    if path.resolve().is_relative_to(PROJECT_DIR):
        return f"{path.resolve().relative_to(PROJECT_DIR)}/"
    return f"{path}/"


def recorded_runs() -> dict[str, Path]:
    """The folder of each recorded run by name; a run handed in is found in results/ first."""
    outputs = output_dir().glob("[!.]*/manifest.json")
    handed_in = RESULTS_DIR.glob("[!.]*/manifest.json")
    return {path.parent.name: path.parent for path in [*outputs, *handed_in]}


def locked(folder: Path, wait: bool = True) -> int | None:
    """folder, locked until closed, as it is when the process ends, even killed;
    None when another process holds it."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return descriptor
    except BlockingIOError:
        os.close(descriptor)


def clear_killed_runs() -> list[str]:
    """Remove each outputs/.partial-<run> that no live run holds locked: its run was killed.
    Returns their names."""
    killed = []
    for path in output_dir().glob(".partial-*"):
        descriptor = locked(path, wait=False)
        if descriptor is None:
            continue
        os.close(descriptor)
        shutil.rmtree(path)
        killed.append(path.name.removeprefix(".partial-"))
    return killed


def choose_run_name(requested: str, model_name: str, seed: int) -> tuple[str, list[str]]:
    """RUN_NAME if it is free, or else <model>-seed<seed>-<time>, numbered when two runs start in
    one second. The run holds outputs/.partial-<run> locked until it ends.
    Returns the name, and the killed runs' names."""
    output_dir().mkdir(parents=True, exist_ok=True)
    outputs = locked(output_dir())  # one run at a time clears and chooses
    try:
        killed = clear_killed_runs()
        taken = {path.name.removeprefix(".partial-") for path in output_dir().iterdir()}
        if requested in taken:
            where = f"in {output_dir()} already, or running"
            raise ConfigError(f"RUN_NAME {requested!r} is {where}: choose another name")
        base = requested or f"{model_name}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
        numbered = (f"{base}-{count}" for count in itertools.count(2))
        name = next(name for name in itertools.chain([base], numbered) if name not in taken)
        partial = output_dir() / f".partial-{name}"
        partial.mkdir()
        HELD.append(locked(partial))
    finally:
        os.close(outputs)
    # At any end but a kill; a saved run renamed it.
    atexit.register(shutil.rmtree, partial, ignore_errors=True)
    return name, killed


def save_run(
    run_name: str, manifest: dict, predictions, picture, model_files: dict, write_model
) -> Path:
    """Write into the run's hidden folder, then rename it: an interrupted run leaves no
    half-written outputs/<run>/. model_files maps each file's name to the part of the model it
    holds, which write_model(part, path) writes."""
    run_dir = output_dir() / run_name
    partial = run_dir.with_name(f".partial-{run_name}")
    records = {"manifest.json": manifest, "metrics.json": manifest["result"]["metrics"]}
    try:
        for name, record in records.items():
            (partial / name).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        predictions.to_csv(partial / "predictions.csv", index=False)
        Image.fromarray(picture.pixels).save(partial / f"{picture.name}.png")
        for name, part in model_files.items():
            write_model(part, partial / name)
        partial.rename(run_dir)
    except BaseException:
        # Interrupted, or the disk is full: the space back at once, before TrackIO ends the run.
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return run_dir
