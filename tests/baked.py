"""A baked project, driven through its Makefile as a user would: the template tests' one helper.

`Project` runs make with settings and environment variables, git, docker, and edits with ordered
times, as its own user; `FakeDockerProject` runs the same make against a fake `docker` that records
what it is asked to do, for the Makefile's decisions. Beside them, what the tests read alike: the
error lines a command printed, a TrackIO store, a container's confinement, a web server.
"""

import contextlib
import functools
import http.server
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import DOCKER, bake

NON_ROOT_UID = 4321
LOCAL_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
IDENTITY = ["-c", "user.name=Student", "-c", "user.email=student@example.com"]
CURVE_STEPS = set(range(1, 6))  # the steps of a run's learning curve
HANDED_IN = ["manifest.json", "metrics.json", "predictions.csv"]  # what results/<run>/ holds
# How every container that a project starts is confined, as docker inspect reports it.
HARDENED = {
    "CapDrop": ["ALL"],
    "SecurityOpt": ["no-new-privileges"],
    "ReadonlyRootfs": True,
    "Tmpfs": {"/tmp": ""},
    "PidsLimit": 1024,
    "User": f"{os.getuid()}:{os.getgid()}",
}


def captured(command: list, **options) -> subprocess.CompletedProcess:
    """subprocess.run with these options, its output and errors kept as text."""
    return subprocess.run(command, capture_output=True, text=True, **options)


def git(folder: Path, *args: str) -> str:
    """git in folder, as a student whose name and e-mail are set; its output."""
    return captured(["git", *IDENTITY, *args], cwd=folder, check=True).stdout


def socket_group_id() -> int:
    return os.stat("/var/run/docker.sock").st_gid


def order_times(project: Path, edited: str) -> None:
    """Make the edit unmistakably the newest change on any file system's clock: the image's inputs
    two seconds old, make's stamps one, the edited file now. (Dating the edit forward instead would
    make a stamp written in the next seconds look older than it.)"""
    now = time.time()
    for path in [project / "Dockerfile", project / "requirements.txt", *project.glob(".make/*")]:
        age = 1 if path.parent.name == ".make" else 2
        os.utime(path, (now - age, now - age))
    os.utime(project / edited, (now, now))


def errors(said: str) -> list[str]:
    """The `error:` lines of what a command said, which holds no traceback."""
    assert "Traceback" not in said, said
    return [line for line in said.splitlines() if line.startswith("error:")]


def confinement(container: str) -> dict | None:
    """A live container's confinement, as docker inspect says it, in HARDENED's keys; None: gone."""
    inspect = captured([DOCKER, "inspect", container])
    if inspect.returncode != 0:
        return None
    [details] = json.loads(inspect.stdout)
    host = {key: details["HostConfig"].get(key) for key in HARDENED if key != "User"}
    return host | {"User": details["Config"]["User"]}


def post_json(url: str, payload: dict, headers: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def tracked_runs(url: str, project: str) -> set[str]:
    """The names of the runs that the TrackIO server or dashboard at url lists for project."""
    listed = post_json(f"{url}/api/get_runs_for_project", {"project": project})["data"]
    return {run["name"] for run in listed}


def read_store(path: Path) -> contextlib.closing:
    """A TrackIO store (SQLite), opened read-only."""
    return contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True))


def has_step(store: Path, run: str, step: int) -> bool:
    """Whether TrackIO has written the step of run to the store (it writes its queue every half
    second)."""
    # Opening happens inside suppress (a with's items enter in turn): the store may not exist yet.
    with contextlib.suppress(sqlite3.OperationalError), read_store(store) as tracked:
        query = "SELECT 1 FROM metrics WHERE run_name = ? AND step = ?"
        return tracked.execute(query, (run, step)).fetchone() is not None
    return False


def wait_for_step(store: Path, run: str, step: int, seconds: float = 60) -> None:
    """Until TrackIO has written the step of run to the store."""
    deadline = time.monotonic() + seconds
    while not has_step(store, run, step):
        if time.monotonic() > deadline:
            pytest.fail(f"step {step} of {run} never reached {store}")
        time.sleep(0.1)


def curve_steps(store: sqlite3.Connection, run: str) -> set[int]:
    """The steps of a run's learning curve that a TrackIO store holds."""
    rows = store.execute(
        """SELECT step FROM metrics WHERE run_name = ?
           AND json_extract(metrics, '$."test/accuracy"') IS NOT NULL""",
        (run,),
    )
    return {step for (step,) in rows}


def logged(store: sqlite3.Connection, run: str) -> tuple[dict, dict]:
    """The final results that a run logged to a TrackIO store, and its config."""
    [(results,)] = store.execute(
        """SELECT json_extract(metrics, '$.results') FROM metrics
           WHERE run_name = ? AND json_extract(metrics, '$.results') IS NOT NULL""",
        (run,),
    ).fetchall()
    [(config,)] = store.execute("SELECT config FROM configs WHERE run_name = ?", (run,)).fetchall()
    [final] = json.loads(results)["_value"]
    return final, json.loads(config)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        """Each request is no news: the tests read what came of it."""


@contextlib.contextmanager
def served(folder: Path, host: str = "127.0.0.1"):
    """folder on a web server of its own on host, in a thread; yields the server's URL."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()


def built(result: subprocess.CompletedProcess) -> bool:
    """Whether make ran `docker build`: its recipe says so, and BuildKit's progress shows it."""
    announced = re.search(r"^Building \S+:", result.stdout, re.M) is not None
    return announced and "load build definition" in result.stderr


class Project:
    """A baked project, driven through its Makefile as a user would.

    make checks that it succeeded unless told `check=False`, or unless the project was made with
    `checked=False`; `merged=True` gives make's output and errors in one text, as a terminal does.
    """

    def __init__(
        self,
        path: Path,
        user: int | None = None,
        checked: bool = True,
        merged: bool = False,
    ):
        self.path = path
        self.user = user
        self.checked = checked
        self.merged = merged
        self.env = {**os.environ, "DOCKER": DOCKER}

    def make(self, *args: str, check: bool | None = None, timeout: int = 900, **env: str):
        """make with these arguments (settings such as SEED=7) and these environment variables."""
        streams = {
            "stdout": subprocess.PIPE,
            "stderr": subprocess.STDOUT if self.merged else subprocess.PIPE,
        }
        result = subprocess.run(
            [*self.as_user(), "make", *args],
            cwd=self.path,
            env={**self.env, **env},
            text=True,
            timeout=timeout,
            **streams,
        )
        if self.checked if check is None else check:
            said = f"{result.stdout[-3000:]}\n{(result.stderr or '')[-3000:]}"
            assert result.returncode == 0, f"make {' '.join(args)}:\n{said}"
        return result

    def fails(self, *args: str, **env) -> subprocess.CompletedProcess:
        """make that must fail, as Project.make runs it; its result."""
        result = self.make(*args, check=False, **env)
        assert result.returncode != 0, f"make {' '.join(args)} succeeded:\n{result.stdout[-3000:]}"
        return result

    def start(self, *args: str, stderr: int | None = subprocess.STDOUT) -> subprocess.Popen:
        """make in its own process group, as a terminal's foreground job; its output in stdout."""
        return subprocess.Popen(
            [*self.as_user(), "make", *args],
            cwd=self.path,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )

    def as_user(self) -> list[str]:
        """The command prefix that runs as this project's user, in the docker group."""
        if self.user is None:
            return []
        groups = f"--groups={socket_group_id()}"
        return ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", groups, "--"]

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit(self) -> str:
        """HEAD's short hash, as make push tags the image."""
        return self.git("rev-parse", "--short=12", "HEAD").strip()

    def commit_base_pin(self) -> None:
        """What a student does after the first `make image`: commit the base image's pin."""
        self.git("add", "base-image.lock")
        self.git("commit", "-qm", "Pin the base")

    def hand_in(self, run: str) -> str:
        """make submit, then the commit of results/ that it asks for; what submit said."""
        said = self.make("submit", f"RUN={run}").stdout
        self.git("add", "results")
        self.git("commit", "--quiet", "-m", f"Hand in {run}")
        return said

    def clone(self, folder: Path) -> "Project":
        """A fresh clone of this project's repository in folder, as staff make one."""
        git(folder.parent, "clone", "--quiet", str(self.path), str(folder))
        return Project(folder)

    def docker(self, *args: str) -> subprocess.CompletedProcess:
        return captured([DOCKER, *args], timeout=600)

    def inspect(self, template: str, name: str) -> str:
        """What docker inspect says of an image or a container, in a Go template."""
        return self.docker("inspect", "--format", template, name).stdout.strip()

    def image(self) -> str:
        """This machine's image: make keeps a stamp for each platform built."""
        [stamp] = (self.path / ".make").glob(f"image-*-linux-{LOCAL_ARCH}")
        return f"{self.path.name}:{stamp.name.removeprefix('image-')}"

    def runs(self) -> list[Path]:
        """The runs in outputs/, oldest first."""
        folders = (path for path in (self.path / "outputs").iterdir() if path.name != "old-run")
        return sorted(folders, key=os.path.getmtime)

    def manifest(self, run: str | None = None) -> dict:
        """A run's manifest: the newest run's unless named."""
        folder = self.path / "outputs" / run if run else self.runs()[-1]
        return json.loads((folder / "manifest.json").read_text())

    def read(self, name: str) -> str:
        return (self.path / name).read_text()

    def edit(self, name: str, text: str) -> None:
        """Write the file, and make it the newest change (see order_times)."""
        (self.path / name).write_text(text)
        order_times(self.path, name)

    @contextlib.contextmanager
    def edited(self, name: str, text: str):
        """The file holds text (see edit) inside the with, and what it held before after it."""
        before = self.read(name)
        self.edit(name, text)
        try:
            yield
        finally:
            self.edit(name, before)


@contextlib.contextmanager
def homed(user: int | None, **answers: str):
    """A project baked with these answers in a home of its own, world-readable and owned with the
    project by user, as a home directory is; make clean, then the home, go after the with."""
    home = Path(tempfile.mkdtemp(prefix="repro-home-"))
    home.chmod(0o755)
    project = Project(bake(home, **answers), user)
    if user is not None:
        subprocess.run(["chown", "-R", f"{user}:{user}", str(home)], check=True)
    try:
        yield project
    finally:
        project.make("clean", check=False)
        shutil.rmtree(home)


def committed(folder: Path, **answers: str) -> Project:
    """A project baked into folder with git, as a student's clean tree is after the first
    `make image`: the image built, and the base image's pin committed."""
    project = Project(bake(folder, init_git="yes", **answers))
    project.make("image")
    project.commit_base_pin()
    return project


FAKE_DOCKER = """\
#!/usr/bin/env bash
# Records each call, and the images it built. `build` and `run --gpus` answer as FAKE_BUILD and
# FAKE_GPU say; FAKE_INSPECT=1 deletes the images; the base image is here, for FAKE_BASE_PLATFORM,
# with the image ID FAKE_BASE_ID and the registry digests FAKE_BASE_DIGESTS.
echo "$*" >> "$FAKE_DOCKER_LOG"
images="$FAKE_DOCKER_LOG.images"
[[ -z "${FAKE_INSPECT:-}" ]] || rm -f "$images"
case "$1 $2" in
  "image inspect")
    case "$*" in
      *Architecture*)
        base_platform="${FAKE_BASE_PLATFORM:-linux/amd64}"
        echo "$base_platform sha256:${FAKE_BASE_ID:-1111} ${FAKE_BASE_DIGESTS:-}"
        exit 0 ;;
      *.Size*) echo 123000000 ;;
    esac
    grep -qxF "${@: -1}" "$images" 2>/dev/null ;;
  build*) echo "fake build progress" >&2
    [[ -z "${FAKE_BUILD:-}" ]] || exit "$FAKE_BUILD"
    [[ "$*" =~ --tag[[:space:]]([^[:space:]]+) ]] && echo "${BASH_REMATCH[1]}" >> "$images" ;;
  "image ls") cat "$images" 2>/dev/null ;;
  "image rm") rm -f "$images" ;;
  run*) if [[ "$*" == *--gpus* && -z "${FAKE_GPU:-}" ]]; then
      gpu_error='could not select device driver "" with capabilities: [[gpu]].'
      echo "docker: Error response from daemon: $gpu_error" >&2
      exit 125
    fi ;;
esac
"""


class FakeDockerProject(Project):
    """A baked project whose make talks to a fake `docker` that records each call: the Makefile's
    decisions, without an engine. make is not checked: the tests read its exit status."""

    def __init__(self, path: Path, fake_bin: Path):
        super().__init__(path, checked=False)
        self.log = fake_bin / "calls.log"
        self.env |= {"DOCKER": str(fake_bin / "docker"), "FAKE_DOCKER_LOG": str(self.log)}

    def make(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """make as Project.make does, after forgetting the calls of the last one."""
        self.log.write_text("")
        return super().make(*args, timeout=60, **env)

    def calls(self, command: str = "") -> list[str]:
        return [call for call in self.log.read_text().splitlines() if call.startswith(command)]

    def builds(self) -> list[str]:
        return self.calls("build")

    def stamps(self) -> list[str]:
        stamp_dir = self.path / ".make"
        return sorted(path.name for path in stamp_dir.iterdir()) if stamp_dir.exists() else []

    def touch(self, name: str) -> None:
        order_times(self.path, name)


def fake_project(tmp_path: Path, **answers: str) -> FakeDockerProject:
    """A project baked with these answers into tmp_path, with the fake docker in tmp_path/bin."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "docker").write_text(FAKE_DOCKER)
    (fake_bin / "docker").chmod(0o755)
    return FakeDockerProject(bake(tmp_path, **answers), fake_bin)
