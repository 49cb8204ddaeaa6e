"""A class on one tracking server, on a real engine: a wrong token or an absent server stops a run
before it trains; a run that outlives the server's absence says so, keeps its points, and make
sync-runs sends them; the server loses no row under concurrent clients."""

import importlib.util
import subprocess
import time

import pytest
from baked import CURVE_STEPS, Project, curve_steps, errors, logged, read_store, wait_for_step
from conftest import REPO, bake, free_port, training_container

pytestmark = pytest.mark.docker

PROJECT = "tracking_faults"  # its own image, server and network, so that it touches no other test's
NETWORK = f"{PROJECT}-tracking"
SERVER_SETTINGS = [f"NETWORK={NETWORK}", f"TRACKIO_SERVER_URL=http://{NETWORK}:7860"]
# Training long enough (about 2 s a step) that the server can be taken away between two steps.
SLOW = ("N_ESTIMATORS=1000", "CURVE=rows", "JOBS=1")  # five fits on more and more rows, on one core
DOWN_SECONDS = 35  # longer than the 30 s that TrackIO waits at the end of a run

spec = importlib.util.spec_from_file_location(
    "tracking_load", REPO / "benchmarks" / "tracking_load.py"
)
tracking_load = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tracking_load)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = bake(
        tmp_path_factory.mktemp("tracking"), project_name="Tracking Faults", include_lab_tools="yes"
    )
    project = Project(path)
    project.make("image")
    yield project
    project.docker("stop", "--time", "5", NETWORK)
    project.docker("network", "rm", NETWORK)
    project.make("clean", check=False)


@pytest.fixture(scope="module")
def server(project):
    """The project's tracking server on a free port;
    runs log to it with its token from the environment."""
    port = free_port()
    project.make("tracking-server", f"PORT={port}")
    project.env["TRACKIO_WRITE_TOKEN"] = (
        project.path / ".trackio" / "server" / "write-token"
    ).read_text()
    store = project.path / ".trackio" / "server" / f"{PROJECT}.db"
    return tracking_load.Server(
        f"http://127.0.0.1:{port}",
        project.env["TRACKIO_WRITE_TOKEN"],
        PROJECT,
        store,
        f"{PROJECT}-tracking",
    )


@pytest.mark.parametrize("target", ["train", "sweep"])
def test_a_wrong_token_stops_the_run_before_it_trains(project, server, target):
    started = time.monotonic()
    names = ["RUN_NAME=wrong-token", "SWEEP=wrong-token"]
    result = project.fails(target, *SERVER_SETTINGS, *names, TRACKIO_WRITE_TOKEN="not-the-token")
    assert errors(result.stderr) == [
        f"error: the TrackIO server at http://{NETWORK}:7860 refused the write token: "
        "use the one make tracking-server printed"
    ]
    assert "step 1/" not in result.stdout
    assert not (project.path / "outputs" / "wrong-token").exists()
    assert not (project.path / "sweeps" / "wrong-token").exists()  # a sweep is not even submitted
    assert time.monotonic() - started < 20  # no 30 s wait in TrackIO's finish()


def test_a_server_that_does_not_answer_stops_the_run_before_it_trains(project, server):
    result = project.fails("train", f"NETWORK={NETWORK}", "TRACKIO_SERVER_URL=http://nowhere:7860")
    assert errors(result.stderr) == [
        "error: no TrackIO server answers at http://nowhere:7860:"
        " start it with make tracking-server,"
        " or check TRACKIO_SERVER_URL (and NETWORK= on the server's machine)"
    ]
    assert "step 1/" not in result.stdout


# A run's own store, or a sweep task's, where `make sweep` puts it: make sync-runs reads both.
@pytest.mark.parametrize("kept_in", [".trackio", "sweeps/outage/trackio/0"])
def test_a_run_that_outlives_the_server_fails_keeps_its_points_and_sync_runs_sends_them(
    project, server, kept_in
):
    run = f"server-went-away-{kept_in.split('/')[0].strip('.')}"
    # OVERFIT_GAP=0: the run also raises an alert, which must arrive too.
    settings = [
        *SERVER_SETTINGS,
        *SLOW,
        "OVERFIT_GAP=0",
        f"RUN_NAME={run}",
        f"TRACKIO_DIR=/app/{kept_in}",
    ]
    train = project.start("train", *settings, stderr=subprocess.PIPE)
    # Freeze the run while the server stops,
    # so that it stops between two steps whatever this machine's speed.
    container = training_container(project.path)
    wait_for_step(server.store, run, 1, seconds=120)
    project.docker("pause", container)
    project.make("tracking-server-stop")
    stopped = time.monotonic()
    project.docker("unpause", container)
    stdout, stderr = train.communicate(timeout=600)

    assert train.returncode != 0
    [error] = errors(stderr)
    pending = int(error.split()[1])
    kept = f"they wait in {kept_in}/; make sync-runs sends them"
    assert error == f"error: {pending} points did not reach the tracking server: {kept}"
    assert pending >= 1
    # the run's own results are whole
    assert (project.path / "outputs" / run / "manifest.json").exists()

    time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - stopped)))
    project.make("tracking-server", f"PORT={server.url.rsplit(':', 1)[1]}")
    synced = project.make("sync-runs", *SERVER_SETTINGS)
    assert (
        f"Sent {pending} points and 1 pictures from {kept_in}/ to http://{NETWORK}:7860."
        in synced.stdout
    )

    with read_store(server.store) as store:
        assert curve_steps(store, run) == CURVE_STEPS
        final, config = logged(store, run)
        alerts = store.execute("SELECT title FROM alerts WHERE run_name = ?", (run,)).fetchall()
    assert final["test_accuracy"] == project.manifest(run)["result"]["metrics"]["test_accuracy"]
    assert config["n_estimators"] == 1000
    assert alerts == [("Overfitting",)]
    pictures = list((server.store.parent / "media" / PROJECT / run).rglob("*.png"))
    assert len(pictures) == 1

    again = project.make("sync-runs", *SERVER_SETTINGS)
    assert f"Nothing to send from {kept_in}/." in again.stdout
    assert (
        project.make(
            "train", *SERVER_SETTINGS, "N_ESTIMATORS=10", f"RUN_NAME={run}-after-sync"
        ).returncode
        == 0
    )


def test_sync_runs_names_the_server_it_needs(project):
    assert errors(project.fails("sync-runs").stderr) == [
        "error: name the server, as for make train:"
        " TRACKIO_SERVER_URL=... TRACKIO_WRITE_TOKEN=... (and NETWORK=...)"
    ]


def test_ten_concurrent_clients_lose_no_row(server):
    level = tracking_load.load(server, clients=10, steps=20)
    assert level.lost == 0 and level.stored == 200
    assert level.peak_memory_mb > 0
