"""Everything that decides a run's result, recorded beside it as outputs/<run>/manifest.json."""

import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from threadpoolctl import threadpool_info

PROJECT_DIR = Path(__file__).resolve().parent


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(metrics: dict, predictions: list) -> str:
    """sha256 of the metrics and predictions in one canonical form: sorted keys, no spaces, and floats as
    Python's shortest round-trip repr, so the same numbers always give the same text."""
    canonical = json.dumps(
        {"metrics": {key: float(value) for key, value in metrics.items()}, "predictions": predictions},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout


def code_facts() -> dict:
    """The commit, and a hash of any uncommitted change to tracked files."""
    if "GIT_COMMIT" in os.environ:  # read on the host by the Makefile: the image has no git
        commit = os.environ["GIT_COMMIT"]
        dirty = os.environ.get("GIT_DIRTY") == "true"
        diff_sha256 = os.environ.get("GIT_DIFF_SHA256")
    else:
        commit = (_git("rev-parse", "HEAD") or "").strip()
        dirty = bool(_git("status", "--porcelain"))
        diff_sha256 = hashlib.sha256((_git("diff", "HEAD") or "").encode()).hexdigest()
    if not commit:
        return {"git_commit": None, "dirty": None, "diff_sha256": None}
    return {"git_commit": commit, "dirty": dirty, "diff_sha256": diff_sha256 if dirty else None}


def image_facts() -> dict:
    if "IMAGE_ID" not in os.environ:
        return {"local": True, "note": "run outside the project's Docker image"}
    return {
        "local": False,
        "tag": os.environ["IMAGE"],
        "id": os.environ["IMAGE_ID"],
        "content_hash": os.environ["IMAGE_HASH"],
        # Set once the image has been pushed or pulled: `docker pull <digest>` gets these exact bytes anywhere.
        "digest": os.environ.get("IMAGE_DIGEST") or None,
    }


def installed_packages() -> dict:
    """name -> version of every installed distribution, as `pip freeze` lists them."""
    return dict(sorted((dist.metadata["Name"].lower(), dist.version) for dist in metadata.distributions()))


def environment_facts(data: dict) -> dict:
    """What the run's result depends on besides the config: known before training starts."""
    return {
        "code": code_facts(),
        "image": image_facts(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": installed_packages(),
        "threadpools": [
            {key: info.get(key) for key in ("internal_api", "version", "num_threads", "architecture", "filepath")}
            for info in threadpool_info()
        ],
        "data": data,
        "hash_seed": os.environ.get("PYTHONHASHSEED"),
    }


def build_manifest(run_name: str, config: dict, environment: dict, metrics: dict, predictions: list) -> dict:
    """The manifest: the config and environment known at the start, and the result's fingerprint."""
    return {
        "run": run_name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seed": config["seed"],
        "config": config,
        **environment,
        "result": {"fingerprint": fingerprint(metrics, predictions), "metrics": metrics},
    }


def flatten(facts: dict, prefix: str = "") -> dict:
    """Nested facts as {"a/b": "value"} rows, for a table on the dashboard."""
    rows = {}
    for key, value in facts.items():
        if isinstance(value, dict) and value:
            rows |= flatten(value, f"{prefix}{key}/")
        else:
            rows[f"{prefix}{key}"] = value if isinstance(value, str) else json.dumps(value)
    return rows
