"""A run's record in outputs/<run>/: what decided its result, and the result itself, written all at once."""

import atexit
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

HELD = []  # this run's .partial- folder, open and so locked until the process ends
RESULTS_DIR = Path(__file__).resolve().parent / "results"  # runs handed in (make submit), which git tracks


def output_dir() -> Path:
    return Path(os.environ.get("OUTPUT_DIR", Path(__file__).resolve().parent / "outputs"))


def recorded_runs() -> dict[str, Path]:
    """The folder of each recorded run by name; a run handed in is found in results/ before outputs/."""
    manifests = [*output_dir().glob("[!.]*/manifest.json"), *RESULTS_DIR.glob("[!.]*/manifest.json")]
    return {path.parent.name: path.parent for path in manifests}


def locked(folder: Path, wait: bool = True) -> int | None:
    """folder, locked until closed, as it is when the process ends, even killed; None when another holds it."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        return descriptor
    except BlockingIOError:
        os.close(descriptor)


def clear_killed_runs() -> list[str]:
    """Remove each outputs/.partial-<run> that no live run holds locked: its run was killed. Returns their names."""
    killed = []
    for path in output_dir().glob(".partial-*"):
        if (descriptor := locked(path, wait=False)) is not None:
            os.close(descriptor)
            shutil.rmtree(path)
            killed.append(path.name.removeprefix(".partial-"))
    return killed


def choose_run_name(requested: str, model_name: str, seed: int) -> tuple[str, list[str]]:
    """RUN_NAME if it is free, or else <model>-seed<seed>-<time>, numbered when two runs start in one second.
    The run holds outputs/.partial-<run> locked until it ends. Returns the name, and the killed runs' names."""
    output_dir().mkdir(parents=True, exist_ok=True)
    outputs = locked(output_dir())  # one run at a time clears and chooses
    try:
        killed = clear_killed_runs()
        taken = {path.name.removeprefix(".partial-") for path in output_dir().iterdir()}
        if requested in taken:
            raise ConfigError(f"RUN_NAME {requested!r} is in {output_dir()} already, or running: choose another name")
        base = requested or f"{model_name}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
        numbered = (f"{base}-{count}" for count in itertools.count(2))
        name = next(name for name in itertools.chain([base], numbered) if name not in taken)
        (partial := output_dir() / f".partial-{name}").mkdir()
        HELD.append(locked(partial))
    finally:
        os.close(outputs)
    atexit.register(shutil.rmtree, partial, ignore_errors=True)  # at any end but a kill; a saved run renamed it
    return name, killed


def environment_facts(data: dict) -> dict:
    """What a result depends on besides the config; the host passes in git's and Docker's (run-facts.sh)."""
    env = os.environ.get
    commit, dirty = env("GIT_COMMIT"), env("GIT_DIRTY") == "true"
    diff, tree = env("GIT_DIFF_SHA256") if dirty else None, env("GIT_CODE_TREE")
    tag = env("IMAGE")
    image = {"local": not tag, "tag": tag, "id": env("IMAGE_ID"), "digest": env("IMAGE_DIGEST") or None}
    image |= {"base": env("BASE_IMAGE"), "base_id": env("BASE_ID")}  # as base-image.lock pinned it
    pools = [{key: pool.get(key) for key in ("internal_api", "version", "num_threads")} for pool in threadpool_info()]
    return {
        "code": {"git_commit": commit, "dirty": dirty if commit else None, "diff_sha256": diff, "tree": tree},
        "image": image,
        "lock": env("LOCK_SHA256"),  # requirements.txt's sha256: every package, as the image installed it
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
    """Write into the run's hidden folder, then rename it: an interrupted run leaves no half-written outputs/<run>/."""
    run_dir = output_dir() / run_name
    partial = run_dir.with_name(f".partial-{run_name}")
    try:
        for name, record in (("manifest.json", manifest), ("metrics.json", manifest["result"]["metrics"])):
            (partial / name).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        predictions.to_csv(partial / "predictions.csv", index=False)
        Image.fromarray(image[1]).save(partial / f"{image[0]}.png")
        for name, write in model_files.items():
            write(partial / name)
        partial.rename(run_dir)
    except BaseException:  # interrupted, or the disk is full: the space back at once, before TrackIO ends the run
        shutil.rmtree(partial, ignore_errors=True)
        raise
    print(f"Outputs in {run_dir}, fingerprint {manifest['result']['fingerprint'][:12]}")
    return run_dir
