"""A run's side of the shared TrackIO server: `check` that it answers and takes the write token,
before a run trains; `sync` the points that runs could not send, which TrackIO keeps in their
store: .trackio/, and each sweep task's sweeps/<sweep>/trackio/<index>/ (make sync-runs).
Usage: python scripts/tracking.py check | sync PROJECT,
with TRACKIO_SERVER_URL and TRACKIO_WRITE_TOKEN set."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from trackio.pending_uploads import replay_pending_uploads
from trackio.remote_client import WRITE_TOKEN_HEADER, RemoteClient
from trackio.sqlite_storage import SQLiteStorage
from trackio.utils import parse_trackio_server_url

BATCH = 500  # points per request, as TrackIO's own `trackio sync` sends them
# The alerts that wait with the points of some runs.
ALERTS_OF_RUNS = """
    SELECT run_id, run_name AS run, title, text, level, step, timestamp, alert_id FROM alerts
    WHERE alert_id IS NOT NULL AND run_id IN ({runs})
"""


def server() -> tuple[str, str]:
    """The server's address and the write token, which TrackIO also takes from the URL's
    ?write_token=."""
    url, token_in_url = parse_trackio_server_url(os.environ["TRACKIO_SERVER_URL"])
    return url.rstrip("/"), token_in_url or os.environ.get("TRACKIO_WRITE_TOKEN", "")


def check() -> None:
    """One request that reads and writes nothing: whether this token may write. A wrong token
    would otherwise let the run train, then keep every point locally after a 30 s wait."""
    url, token = server()
    headers = {WRITE_TOKEN_HEADER: token}
    try:
        response = httpx.post(f"{url}/api/get_run_mutation_status", headers=headers, timeout=10)
        response.raise_for_status()
        allowed = response.json()["data"]["allowed"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        sys.exit(
            f"error: no TrackIO server answers at {url}: start it with make tracking-server, "
            "or check TRACKIO_SERVER_URL (and NETWORK= on the server's machine)"
        )
    if not allowed:
        printed = "use the one make tracking-server printed"
        sys.exit(f"error: the TrackIO server at {url} refused the write token: {printed}")


def with_configs(project: str, logs: list[dict]) -> list[dict]:
    """TrackIO sends a run's config with its first point; when that point waits here, the config
    goes with it."""
    first_of_run = {}
    for log in logs:
        first_of_run.setdefault(log["run_id"], log)
    for run_id, log in first_of_run.items():
        log["config"] = SQLiteStorage.get_run_config(project, run_id=run_id)
    return logs


def alerts_of(project: str, logs: list[dict]) -> list[dict]:
    """TrackIO keeps a server run's alert here only when sending it failed, and marks it no
    further: send those of the runs whose points wait. The server keeps an alert once, by its
    alert_id, so a resent one is harmless."""
    runs = sorted({log["run_id"] for log in logs})
    with sqlite3.connect(SQLiteStorage.get_project_db_path(project)) as store:
        store.row_factory = sqlite3.Row
        rows = store.execute(ALERTS_OF_RUNS.format(runs=",".join("?" * len(runs))), runs).fetchall()
    return [{"project": project, **row} for row in map(dict, rows)]


def gone(count: int, path: str) -> None:
    missing = f"{count} pictures waiting to be sent are gone from .trackio/ (e.g. {path})"
    print(f"warning: {missing}, so are not sent")


def sync_every_store(project: str) -> None:
    """sync each store in a process of its own: TrackIO reads TRACKIO_DIR once, as it is
    imported."""
    stores = [Path(".trackio"), *sorted(Path("sweeps").glob("*/trackio/*"))]
    stores = [store.resolve() for store in stores if (store / f"{project}.db").exists()]
    if not stores:
        print("Nothing to send: no run has logged here yet.")
    for store in stores:
        env = os.environ | {"TRACKIO_DIR": str(store)}
        synced = subprocess.run([sys.executable, __file__, "sync-store", project], env=env)
        if synced.returncode != 0:
            sys.exit(1)  # the store's own line said why; what did not arrive still waits


def sync(project: str) -> None:
    """Send the waiting points of this store, then its waiting pictures, with TrackIO's own
    client; each is marked sent only once the server has taken it, so a failed sync can simply
    be run again."""
    url, token = server()
    points = SQLiteStorage.get_pending_logs(project)
    files = SQLiteStorage.get_pending_uploads(project)
    try:
        client = RemoteClient(url, write_token=token)
        if points:
            logs = with_configs(project, points["logs"])
            for start in range(0, len(logs), BATCH):
                chunk = logs[start : start + BATCH]
                client.predict(api_name="/bulk_log", logs=chunk, hf_token=None)
            alerts = alerts_of(project, logs)
            if alerts:
                client.predict(api_name="/bulk_alert", alerts=alerts, hf_token=None)
            SQLiteStorage.clear_pending_logs(project, points["ids"])
        if files:
            replay_pending_uploads(
                files,
                project,
                predict=client.predict,
                hf_token=None,
                warn_missing=gone,
            )
    except (httpx.HTTPError, ConnectionError, RuntimeError) as error:
        waits = "what did not arrive still waits: run it again"
        sys.exit(f"error: the sync to {url} stopped ({error}); {waits}")
    batches = ((points, "points"), (files, "pictures"))
    sent = [f"{len(batch['ids'])} {kind}" for batch, kind in batches if batch]
    where = os.path.relpath(os.environ["TRACKIO_DIR"])
    if sent:
        print(f"Sent {' and '.join(sent)} from {where}/ to {url}.")
    else:
        print(f"Nothing to send from {where}/.")


if __name__ == "__main__":
    if sys.argv[1] == "check":
        check()
    elif sys.argv[1] == "sync-store":
        sync(sys.argv[2])
    else:
        sync_every_store(sys.argv[2])
