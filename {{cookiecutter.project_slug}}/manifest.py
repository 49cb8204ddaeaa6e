"""What a run's manifest holds: what decided its result (the config and the environment's facts),
then the result itself, with the fingerprint that a reproduction must match."""

import hashlib
import json
import os
import platform
import sys
import time
from importlib import metadata

from threadpoolctl import threadpool_info


def code_facts() -> dict:
    """The code's commit and tree; the host passes them in (scripts/run-facts.sh)."""
    env = os.environ.get
    commit = env("GIT_COMMIT")
    dirty = env("GIT_DIRTY") == "true"
    return {
        "git_commit": commit,
        "dirty": dirty if commit else None,
        "diff_sha256": env("GIT_DIFF_SHA256") if dirty else None,
        "tree": env("GIT_CODE_TREE"),
    }


def image_facts() -> dict:
    """The Docker image the run ran in, and its base as base-image.lock pinned it."""
    env = os.environ.get
    tag = env("IMAGE")
    return {
        "local": not tag,
        "tag": tag,
        "id": env("IMAGE_ID"),
        "digest": env("IMAGE_DIGEST") or None,
        "base": env("BASE_IMAGE"),
        "base_id": env("BASE_ID"),
    }


def threadpools() -> list[dict]:
    keys = ("internal_api", "version", "num_threads")
    return [{key: pool.get(key) for key in keys} for pool in threadpool_info()]


def packages() -> dict:
    names = ((dist.metadata["Name"].lower(), dist.version) for dist in metadata.distributions())
    return dict(sorted(names))


def environment_facts(data: dict) -> dict:
    """What a result depends on besides the config; the host passes in git's and Docker's."""
    return {
        "code": code_facts(),
        "image": image_facts(),
        # requirements.txt's sha256: every package, as the image installed it
        "lock": os.environ.get("LOCK_SHA256"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages(),
        "threadpools": threadpools(),
        "data": data,
        "hash_seed": os.environ.get("PYTHONHASHSEED"),
    }


def fingerprint(metrics: dict, predictions) -> str:
    """sha256 of the metrics and predictions in one canonical form: sorted keys, and floats as
    Python's shortest exact repr."""
    canonical = {"metrics": {key: float(value) for key, value in metrics.items()}}
    canonical["predictions"] = predictions.to_numpy().tolist()
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def build_manifest(
    run_name: str, config: dict, facts: dict, metrics: dict, predictions, model_sha256: str
) -> dict:
    """The config and facts, then the result; model_sha256 changes with any weight."""
    result = {
        "fingerprint": fingerprint(metrics, predictions),
        "model_sha256": model_sha256,
        "metrics": metrics,
    }
    created = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    head = {"run": run_name, "created": created, "seed": config["seed"], "config": config}
    return {**head, **facts, "result": result}
