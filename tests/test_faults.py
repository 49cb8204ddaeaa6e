"""Faults that must lose nothing, on a real Docker engine: a run interrupted or killed, a full disk,
eight runs at once into one store, and a store that this TrackIO cannot read. Each one is a real
`make train` in the container."""

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import baked
import pytest
from baked import captured, errors, has_step, read_store, wait_for_step
from conftest import DOCKER, bake, free_port, training_container
from trackio.sqlite_storage import SCHEMA_VERSION

pytestmark = pytest.mark.docker

# a name of its own: the tests remove this project's images, and no one else's
PROJECT = "repro_faults"
# About 35 s on two cores, a step every 5 s or so: time to stop it between steps. A forest's own
# curve grows it a fifth at a time for the cost of one fit, on every core: five fits on more and
# more rows, on one, take longer.
LONG = ("N_ESTIMATORS=2000", "CURVE=rows", "JOBS=1")
SHORT = "N_ESTIMATORS=5"
MODEL_FILES = {
    "manifest.json",
    "metrics.json",
    "predictions.csv",
    "confusion_matrix.png",
    "model.joblib",
}
INTERRUPTED = "error: the run was interrupted; nothing was saved"
FULL = "error: the disk is full: free some space, then train again; nothing was saved"


class Project(baked.Project):
    """A project whose make prints as a terminal shows it, output and errors in one text, and is not
    checked: the tests read what a fault made it say."""

    def __init__(self, path: Path):
        super().__init__(path, checked=False, merged=True)

    @property
    def store(self) -> Path:
        return self.path / ".trackio" / f"{PROJECT}.db"

    def runs(self) -> dict[str, set[str]]:
        """Each run's folder in outputs/, with its files."""
        folders = [folder for folder in (self.path / "outputs").glob("[!.]*") if folder.is_dir()]
        return {folder.name: {path.name for path in folder.iterdir()} for folder in folders}

    def leftovers(self) -> list[str]:
        return sorted(path.name for path in (self.path / "outputs").glob(".*"))

    def trackio(self, *args: str) -> dict:
        """TrackIO's own command line, reading the project's store."""
        command = [
            sys.executable,
            "-m",
            "trackio.cli",
            "get",
            *args,
            "--project",
            PROJECT,
            "--json",
        ]
        env = {**os.environ, "TRACKIO_DIR": str(self.path / ".trackio")}
        result = captured(command, env=env, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def curve(self, run: str) -> list[int]:
        return [
            point["step"]
            for point in self.trackio("metric", "--run", run, "--metric", "train/accuracy")[
                "values"
            ]
        ]

    def alerts(self, run: str) -> list[tuple[str, str]]:
        return [
            (alert["title"], alert["level"].lower())
            for alert in self.trackio("alerts", "--run", run)["alerts"]
        ]


def docker(*args: str) -> str:
    return captured([DOCKER, *args], check=True, timeout=120).stdout


def files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def run_name(output: str) -> str:
    [run] = [line.split()[1].rstrip(":") for line in output.splitlines() if line.startswith("Run ")]
    return run


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The project's image, built once: every project below has the same inputs,
    so the same image."""
    first = Project(bake(tmp_path_factory.mktemp("image"), project_name="Repro Faults"))
    assert first.make("image").returncode == 0
    yield
    first.make("clean")


@pytest.fixture
def project(image, tmp_path):
    project = Project(bake(tmp_path, project_name="Repro Faults"))
    assert project.make("image").returncode == 0
    return project


def start_long_run(project: Project) -> tuple[subprocess.Popen, str, list[str]]:
    """A long run, once it has logged its first step; returns make,
    the run's name and what it printed."""
    make = project.start("train", *LONG)
    printed = []
    for line in make.stdout:
        printed.append(line)
        if line.startswith("step 1/5"):
            break
    run = run_name("".join(printed))
    assert printed[-1].startswith("step 1/5"), "".join(printed)
    return make, run, printed


def kill_while_saving(project: Project, container: str, run: str) -> None:
    """SIGKILL while the run writes into outputs/.partial-<run>/: the process is frozen the moment
    the first file appears (saving takes half a second on this machine), so that the kill lands
    there every time. TrackIO writes its points every half second, from the run's own thread, and
    the last step often reaches the store while the run saves: the frozen run goes on a few
    milliseconds at a time until it has, so that the store holds the whole curve."""
    init = docker("inspect", "--format", "{{.State.Pid}}", container).strip()
    [python] = map(int, Path(f"/proc/{init}/task/{init}/children").read_text().split())
    wait_for_step(project.store, run, 4)
    outputs = project.path / "outputs"
    saving = f".partial-{run}/manifest.json"  # the run's folder is there from its start
    deadline = time.monotonic() + 60
    while not (outputs / saving).exists():
        assert time.monotonic() < deadline, "the run never began to save"
        time.sleep(0.002)
    os.kill(python, signal.SIGSTOP)
    while not has_step(project.store, run, 5):
        assert (outputs / saving).exists(), "the run was saved before its last step was stored"
        os.kill(python, signal.SIGCONT)
        time.sleep(0.005)
        os.kill(python, signal.SIGSTOP)
    docker("kill", container)


@pytest.mark.parametrize(
    "how", ["ctrl-c", "docker stop", "docker kill", "docker kill while saving"]
)
def test_an_interrupted_or_killed_run_leaves_nothing_half_done(project, how):
    make, run, printed = start_long_run(project)
    if how == "ctrl-c":
        os.killpg(make.pid, signal.SIGINT)  # as a terminal does: to make, docker and tee at once
    elif how == "docker stop":
        docker("stop", training_container(project.path))
    elif how == "docker kill":
        # what TrackIO had not written yet dies with the process
        wait_for_step(project.store, run, 1)
        docker("kill", training_container(project.path))
    else:
        kill_while_saving(project, training_container(project.path), run)
    output = "".join(printed) + make.stdout.read()
    assert make.wait(timeout=120) != 0
    [error] = errors(output)
    if how.startswith("docker kill"):
        assert error.startswith("error: the run was killed (exit 137)")
        assert project.leftovers() == [f".partial-{run}"]  # only the next run can tell that it died
    else:
        assert error == INTERRUPTED
        assert project.leftovers() == []
    assert run not in project.runs()

    # A run that lives, here saving its outputs, as if in another terminal:
    # the next run must leave it be.
    outputs = project.path / "outputs"
    (outputs / ".partial-other").mkdir()
    other = os.open(outputs / ".partial-other", os.O_RDONLY)
    try:
        fcntl.flock(other, fcntl.LOCK_EX)  # as a live run holds its folder
        result = project.make("train", SHORT)
        assert project.leftovers() == [".partial-other"]
    finally:
        os.close(other)
        (outputs / ".partial-other").rmdir()
    assert result.returncode == 0, result.stdout
    assert list(project.runs().values()) == [MODEL_FILES]

    # TrackIO keeps no run status: the interrupted run ends with an alert that says how,
    # and keeps its steps.
    ended = ("Killed", "error") if how.startswith("docker kill") else ("Stopped", "error")
    assert project.alerts(run) == [ended]
    assert project.curve(run) == ([1, 2, 3, 4, 5] if how.endswith("saving") else [1])


@pytest.fixture
def small_disk(image, tmp_path):
    """A project on a 40 MB disk of its own: outputs/ and .trackio/ fill up as on a full laptop."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk (tmpfs) needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(disk)], check=True)
    try:
        project = Project(bake(disk, project_name="Repro Faults"))
        assert project.make("image").returncode == 0
        yield project
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_stops_the_run_in_one_line_and_keeps_the_store(small_disk):
    project = small_disk
    assert project.make("train", SHORT).returncode == 0
    [before] = project.runs()

    result = project.make("train", *LONG)  # a 95 MB model: its folder fills the disk
    assert result.returncode != 0
    run = run_name(result.stdout)
    assert errors(result.stdout) == [FULL]
    assert project.runs() == {before: MODEL_FILES} and project.leftovers() == []

    # The store reads as before: the earlier run whole,
    # the failed one with its curve and how it ended.
    assert project.curve(before) == project.curve(run) == [1, 2, 3, 4, 5]
    assert {"results", "manifest", "confusion_matrix"} <= set(
        project.trackio("run", "--run", before)["metrics"]
    )
    assert project.alerts(run) == [("Stopped", "error")]
    assert project.make("train", SHORT).returncode == 0  # the space it took is free again


def test_eight_runs_at_once_into_one_store_are_all_complete(project):
    started = time.monotonic()
    makes = [project.start("train", SHORT) for _ in range(8)]
    outputs = [make.communicate(timeout=600)[0] for make in makes]
    print(f"eight runs at once: {time.monotonic() - started:.1f} s")
    for make, output in zip(makes, outputs, strict=True):
        assert make.returncode == 0 and "database is locked" not in output, output
        assert errors(output) == []
    runs = project.runs()
    assert (
        len(runs) == 8
        and all(files == MODEL_FILES for files in runs.values())
        and project.leftovers() == []
    )
    with read_store(project.store) as store:
        rows = store.execute(
            """SELECT run_name, group_concat(step) FROM metrics
            WHERE json_extract(metrics, '$."test/accuracy"') IS NOT NULL GROUP BY run_name"""
        ).fetchall()
    assert dict(rows) == dict.fromkeys(runs, "1,2,3,4,5")


def damage(store: Path, how: str) -> None:
    if how == "newer":  # as a newer TrackIO marks a schema that this one does not know
        with contextlib.closing(sqlite3.connect(store)) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
            db.commit()
    else:
        with store.open("r+b") as db:
            db.truncate(store.stat().st_size // 2)


@pytest.mark.parametrize("how", ["newer", "truncated"])
def test_a_store_it_cannot_read_is_named_and_left_as_it_is(project, how):
    assert project.make("train", SHORT).returncode == 0
    damage(project.store, how)
    store = project.path / ".trackio"
    before, runs = files(store), project.runs()

    for target in ("train", "dashboard"):
        result = project.make(target, f"PORT={free_port()}", SHORT, timeout=120)
        assert result.returncode != 0
        [error] = errors(result.stdout)
        assert error.endswith(
            "move the store aside, and a new one starts: mv .trackio .trackio.old"
        )
        assert ("newer TrackIO" in error) == (how == "newer"), error
        assert "step 1/5" not in result.stdout  # stopped before training
        # SQLite may add its empty side files; nothing else
        assert before.items() <= files(store).items()
        assert project.runs() == runs and project.leftovers() == []

    store.rename(project.path / ".trackio.old")  # as the line says
    assert project.make("train", SHORT).returncode == 0
    assert before.items() <= files(project.path / ".trackio.old").items()
