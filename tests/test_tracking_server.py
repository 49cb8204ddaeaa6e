"""A class on one tracking server, on a real engine: a wrong token or an absent server stops a run before it
trains; a run that outlives the server's absence says so, keeps its points, and make sync-runs sends them; the
server loses no row under concurrent clients."""

import importlib.util
import json
import sqlite3
import subprocess
import time

import pytest
from baked import Project
from conftest import REPO, bake, free_port, training_container, wait_for_step
from test_scale_out import CURVE_STEPS, curve_steps

pytestmark = pytest.mark.docker

PROJECT = "tracking_faults"  # its own image, server and network, so that it touches no other test's
NETWORK = f"{PROJECT}-tracking"
SERVER_SETTINGS = [f"NETWORK={NETWORK}", f"TRACKIO_SERVER_URL=http://{NETWORK}:7860"]
# Training long enough (about 2 s a step) that the server can be taken away between two steps.
SLOW = ("N_ESTIMATORS=1000", "CURVE=rows", "JOBS=1")  # five fits on more and more rows, on one core
DOWN_SECONDS = 35  # longer than the 30 s that TrackIO waits at the end of a run

spec = importlib.util.spec_from_file_location("tracking_load", REPO / "benchmarks" / "tracking_load.py")
tracking_load = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tracking_load)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = bake(tmp_path_factory.mktemp("tracking"), project_name="Tracking Faults", include_lab_tools="yes")
    project = Project(path)
    project.make("image")
    yield project
    project.docker("stop", "--time", "5", NETWORK)
    project.docker("network", "rm", NETWORK)
    project.make("clean", check=False)


@pytest.fixture(scope="module")
def server(project):
    """The project's tracking server on a free port; runs log to it with its token from the environment."""
    port = free_port()
    project.make("tracking-server", f"PORT={port}")
    project.env["TRACKIO_WRITE_TOKEN"] = (project.path / ".trackio" / "server" / "write-token").read_text()
    store = project.path / ".trackio" / "server" / f"{PROJECT}.db"
    return tracking_load.Server(
        f"http://127.0.0.1:{port}", project.env["TRACKIO_WRITE_TOKEN"], PROJECT, store, f"{PROJECT}-tracking"
    )


def errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def server_rows(server, sql: str, *parameters) -> list[tuple]:
    with sqlite3.connect(f"file:{server.store}?mode=ro", uri=True) as store:
        return store.execute(sql, parameters).fetchall()


@pytest.mark.parametrize("target", ["train", "sweep"])
def test_a_wrong_token_stops_the_run_before_it_trains(project, server, target):
    project.env["TRACKIO_WRITE_TOKEN"], token = "not-the-token", server.token
    try:
        started = time.monotonic()
        result = project.make(target, *SERVER_SETTINGS, "RUN_NAME=wrong-token", "SWEEP=wrong-token", check=False)
    finally:
        project.env["TRACKIO_WRITE_TOKEN"] = token
    assert result.returncode != 0
    assert errors(result) == [
        f"error: the TrackIO server at http://{NETWORK}:7860 refused the write token: "
        "use the one make tracking-server printed"
    ]
    assert "Traceback" not in result.stderr and "step 1/" not in result.stdout
    assert not (project.path / "outputs" / "wrong-token").exists()
    assert not (project.path / "sweeps" / "wrong-token").exists()  # a sweep is not even submitted
    assert time.monotonic() - started < 20  # no 30 s wait in TrackIO's finish()


def test_a_server_that_does_not_answer_stops_the_run_before_it_trains(project, server):
    result = project.make("train", f"NETWORK={NETWORK}", "TRACKIO_SERVER_URL=http://nowhere:7860", check=False)
    assert result.returncode != 0
    assert errors(result) == [
        "error: no TrackIO server answers at http://nowhere:7860: start it with make tracking-server, "
        "or check TRACKIO_SERVER_URL (and NETWORK= on the server's machine)"
    ]
    assert "Traceback" not in result.stderr and "step 1/" not in result.stdout


# A run's own store, or a sweep task's, where `make sweep` puts it: make sync-runs reads both.
@pytest.mark.parametrize("kept_in", [".trackio", "sweeps/outage/trackio/0"])
def test_a_run_that_outlives_the_server_fails_keeps_its_points_and_sync_runs_sends_them(project, server, kept_in):
    run = f"server-went-away-{kept_in.split('/')[0].strip('.')}"
    # OVERFIT_GAP=0: the run also raises an alert, which must arrive too.
    settings = [*SERVER_SETTINGS, *SLOW, "OVERFIT_GAP=0", f"RUN_NAME={run}", f"TRACKIO_DIR=/app/{kept_in}"]
    train = project.start("train", *settings, stderr=subprocess.PIPE)
    # Freeze the run while the server stops, so that it stops between two steps whatever this machine's speed.
    container = training_container(project.path)
    wait_for_step(server.store, run, 1, seconds=120)
    project.docker("pause", container)
    project.make("tracking-server-stop")
    stopped = time.monotonic()
    project.docker("unpause", container)
    stdout, stderr = train.communicate(timeout=600)

    assert train.returncode != 0
    [error] = [line for line in stderr.splitlines() if line.startswith("error:")]
    pending = int(error.split()[1])
    kept = f"they wait in {kept_in}/; make sync-runs sends them"
    assert error == f"error: {pending} points did not reach the tracking server: {kept}"
    assert pending >= 1 and "Traceback" not in stderr
    assert (project.path / "outputs" / run / "manifest.json").exists()  # the run's own results are whole

    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - stopped)))
    project.make("tracking-server", f"PORT={server.url.rsplit(':', 1)[1]}")
    synced = project.make("sync-runs", *SERVER_SETTINGS)
    assert f"Sent {pending} points and 1 pictures from {kept_in}/ to http://{NETWORK}:7860." in synced.stdout

    with sqlite3.connect(f"file:{server.store}?mode=ro", uri=True) as store:
        assert curve_steps(store, run) == CURVE_STEPS
    [(results,)] = server_rows(
        server,
        """SELECT json_extract(metrics, '$.results') FROM metrics
           WHERE run_name = ? AND json_extract(metrics, '$.results') IS NOT NULL""",
        run,
    )
    [final] = json.loads(results)["_value"]
    assert final["test_accuracy"] == project.manifest(run)["result"]["metrics"]["test_accuracy"]
    [(config,)] = server_rows(server, "SELECT config FROM configs WHERE run_name = ?", run)
    assert json.loads(config)["n_estimators"] == 1000
    assert server_rows(server, "SELECT title FROM alerts WHERE run_name = ?", run) == [("Overfitting",)]
    pictures = list((server.store.parent / "media" / PROJECT / run).rglob("*.png"))
    assert len(pictures) == 1

    again = project.make("sync-runs", *SERVER_SETTINGS)
    assert f"Nothing to send from {kept_in}/." in again.stdout
    assert project.make("train", *SERVER_SETTINGS, "N_ESTIMATORS=10", f"RUN_NAME={run}-after-sync").returncode == 0


def test_sync_runs_names_the_server_it_needs(project):
    result = project.make("sync-runs", check=False)
    assert result.returncode != 0
    assert errors(result) == [
        "error: name the server, as for make train: TRACKIO_SERVER_URL=... TRACKIO_WRITE_TOKEN=... (and NETWORK=...)"
    ]


def test_ten_concurrent_clients_lose_no_row(server):
    level = tracking_load.load(server, clients=10, steps=20)
    assert level.lost == 0 and level.stored == 200
    assert level.peak_memory_mb > 0
