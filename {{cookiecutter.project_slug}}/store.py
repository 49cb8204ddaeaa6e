"""The health of the TrackIO store, where TrackIO itself would only warn:
a store that it cannot read, a run that was killed, points that never reached a tracking server.
Each stops the run, or marks it, in one line."""

import contextlib
import os
import sqlite3
import sys
from pathlib import Path

import trackio
from trackio.sqlite_storage import SCHEMA_VERSION


def check(project: str) -> None:
    """Stop, in one line, before TrackIO opens a store that it cannot read, and so might change:
    a damaged file, or one from a newer TrackIO (its schema version is SQLite's user_version)."""
    path = Path(os.path.relpath(trackio.SQLiteStorage.get_project_db_path(project)))
    if not path.exists():
        return
    try:
        read_only = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(read_only, uri=True)) as store:
            version = store.execute("PRAGMA user_version").fetchone()[0]
            problem = store.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as error:
        version = 0
        problem = str(error)
    aside = f"move the store aside, and a new one starts: mv {path.parent} {path.parent}.old"
    if version > SCHEMA_VERSION:
        newer = f"a newer TrackIO wrote {path} (schema {version})"
        sys.exit(f"error: {newer}: upgrade trackio, or {aside}")
    if problem != "ok":
        sys.exit(f"error: TrackIO cannot read {path} ({problem}): {aside}")


def mark_killed(project: str, names: list[str]) -> None:
    """TrackIO keeps no run status: an alert tells how each run that was killed ended."""
    for name in names:
        record = trackio.SQLiteStorage.get_latest_run_record_by_name(project, name)
        if not record:
            continue
        text = ["its process was killed (docker kill, or out of memory) before the run could end"]
        trackio.SQLiteStorage.bulk_alert(
            project, name, ["Killed"], text, ["error"], [None], run_id=record["id"]
        )


def check_sent(project: str) -> None:
    """TrackIO keeps the points that a tracking server did not take in the
    run's store, and only warns: fail, and say where they wait, and what sends them, where the
    environment names it in SYNC_COMMAND."""
    pending = trackio.SQLiteStorage.get_pending_logs(project)
    if not pending:
        return
    store = os.path.relpath(trackio.SQLiteStorage.get_project_db_path(project).parent)
    kept = f"they wait in {store}/"
    sender = os.environ.get("SYNC_COMMAND")
    if sender:
        kept += f"; {sender} sends them"
    sys.exit(f"error: {len(pending['ids'])} points did not reach the tracking server: {kept}")


if __name__ == "__main__":  # `make dashboard` checks the store before the dashboard opens it
    check(sys.argv[1])
