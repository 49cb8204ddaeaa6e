"""A run's record in outputs/<run>/: what decided its result, and the result itself, written all at once."""

import atexit
import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import platform
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path

from PIL import Image
from threadpoolctl import threadpool_info

from config import ConfigError

RUNNING = []  # this run's .running- file, open (so locked) until the process ends


def output_dir() -> Path:
    return Path(os.environ.get("OUTPUT_DIR", Path(__file__).resolve().parent / "outputs"))


def results_dir() -> Path:
    """The runs handed in (`make submit`): git tracks them, so that a clone carries them."""
    return Path(__file__).resolve().parent / "results"


def recorded_runs() -> dict[str, Path]:
    """The folder of each recorded run by name; a run handed in is found in results/ before outputs/."""
    manifests = [*output_dir().glob("*/manifest.json"), *results_dir().glob("*/manifest.json")]
    return {path.parent.name: path.parent for path in manifests}


def lock(path: Path, wait: bool = True) -> int | None:
    """A folder, or a file (made if need be), open and locked until it is closed, as the system closes it when the
    process ends, even killed. None where another process holds the lock."""
    descriptor = os.open(path, os.O_RDONLY | (0 if path.is_dir() else os.O_CREAT), 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return descriptor
    except BlockingIOError:
        os.close(descriptor)


@contextlib.contextmanager
def outputs_locked():
    """outputs/, for one run at a time: to clear killed runs, to choose a name, or to end."""
    output_dir().mkdir(parents=True, exist_ok=True)
    descriptor = lock(output_dir())
    try:
        yield output_dir()
    finally:
        os.close(descriptor)


def clear_killed_runs() -> list[str]:
    """A run holds outputs/.running-<run> locked while it lives, and removes it as it ends; a killed run (SIGKILL,
    out of memory) leaves it unlocked, and maybe a half-written .partial-<run>. Removes both; returns the names."""
    killed = []
    with outputs_locked() as outputs:
        for path in outputs.glob(".running-*"):
            if (dead := lock(path, wait=False)) is not None:
                killed.append(path.name.removeprefix(".running-"))
                shutil.rmtree(outputs / f".partial-{killed[-1]}", ignore_errors=True)
                path.unlink()
                os.close(dead)
    return killed


def end_run(running: Path) -> None:
    with outputs_locked():
        running.unlink()


def choose_run_name(requested: str, model_name: str, seed: int) -> str:
    """RUN_NAME if it is free, or else <model>-seed<seed>-<time>, numbered when two runs start in one second;
    the run holds its name until it ends."""
    with outputs_locked() as outputs:
        taken = {path.name.removeprefix(".running-") for path in outputs.iterdir()}
        if requested in taken:
            raise ConfigError(f"RUN_NAME {requested!r} is in {outputs} already, or running: choose another name")
        base = requested or f"{model_name}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
        names = (base if count == 1 else f"{base}-{count}" for count in itertools.count(1))
        name = next(name for name in names if name not in taken)
        RUNNING.append(lock(outputs / f".running-{name}"))
    atexit.register(end_run, outputs / f".running-{name}")  # at any end but a kill
    return name


def environment_facts(data: dict) -> dict:
    """What a result depends on besides the config; the host passes in git's and Docker's (run-facts.sh)."""
    env = os.environ.get
    commit, dirty = env("GIT_COMMIT"), env("GIT_DIRTY") == "true"
    diff, tree = env("GIT_DIFF_SHA256") if dirty else None, env("GIT_CODE_TREE")
    tag = env("IMAGE")
    image = {"local": not tag, "tag": tag, "id": env("IMAGE_ID"), "digest": env("IMAGE_DIGEST") or None}
    pools = [{key: pool.get(key) for key in ("internal_api", "version", "num_threads")} for pool in threadpool_info()]
    return {
        "code": {"git_commit": commit, "dirty": dirty if commit else None, "diff_sha256": diff, "tree": tree},
        "image": image,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": dict(sorted((dist.metadata["Name"].lower(), dist.version) for dist in metadata.distributions())),
        "threadpools": pools,
        "data": data,
        "hash_seed": env("PYTHONHASHSEED"),
    }


def build_manifest(run_name: str, config: dict, facts: dict, metrics: dict, predictions, model_sha256: str) -> dict:
    """The config and facts, then the result: the fingerprint hashes metrics and predictions in one canonical
    form (sorted keys, floats as Python's shortest exact repr); model_sha256 changes with any weight."""
    canonical = {"metrics": {key: float(value) for key, value in metrics.items()}}
    canonical["predictions"] = predictions.to_numpy().tolist()
    fingerprint = hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    result = {"fingerprint": fingerprint, "model_sha256": model_sha256, "metrics": metrics}
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return {"run": run_name, "created": created, "seed": config["seed"], "config": config, **facts, "result": result}


def save_run(run_name: str, manifest: dict, predictions, image: tuple, model_files: dict) -> Path:
    """Write into a hidden folder, then rename it: an interrupted run leaves no half-written outputs/<run>/."""
    run_dir = output_dir() / run_name
    partial = run_dir.with_name(f".partial-{run_name}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        metrics = json.dumps(manifest["result"]["metrics"], indent=2, sort_keys=True)
        (partial / "metrics.json").write_text(metrics + "\n")
        predictions.to_csv(partial / "predictions.csv", index=False)
        Image.fromarray(image[1]).save(partial / f"{image[0]}.png")
        for name, write in model_files.items():
            write(partial / name)
        partial.rename(run_dir)
    except BaseException:  # interrupted, or the disk is full: the space back, and no half-written folder
        shutil.rmtree(partial, ignore_errors=True)
        raise
    print(f"Outputs in {run_dir}, fingerprint {manifest['result']['fingerprint'][:12]}")
    return run_dir
