"""The generated project's devcontainer, opened with the reference client (@devcontainers/cli), as
VS Code and Codespaces open it: the project's own image, the same result as `make train`, and files
that belong to the user."""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from baked import NON_ROOT_UID, Project, captured, homed, socket_group_id, tracked_runs
from conftest import DOCKER, REPO, free_port
from test_docker_e2e import wait_for_http

pytestmark = pytest.mark.docker

# a name of its own: the tests remove this project's containers and images only
PROJECT = "repro_devcontainer"
CLI_VERSION = "0.89.0"
# Kept between test sessions, as the torch virtualenv is; reinstalled when CLI_VERSION changes.
CLI_DIR = REPO / "build" / "devcontainer-cli"
ACCOUNT = "repro-developer"


@pytest.fixture(scope="session")
def devcontainer_cli() -> Path:
    cli = CLI_DIR / "node_modules" / ".bin" / "devcontainer"
    package = CLI_DIR / "node_modules" / "@devcontainers" / "cli" / "package.json"
    if package.exists() and json.loads(package.read_text())["version"] == CLI_VERSION:
        return cli
    npm = shutil.which("npm")
    if npm is None:  # outside CI only: there, a skip fails the run (conftest.py)
        pytest.skip(
            "npm is not installed, to install @devcontainers/cli: apt-get install nodejs npm"
        )
    flags = ["--prefix", str(CLI_DIR), "--no-audit", "--no-fund"]
    result = captured([npm, "install", *flags, f"@devcontainers/cli@{CLI_VERSION}"])
    assert result.returncode == 0, (
        f"cannot install @devcontainers/cli@{CLI_VERSION}:\n{result.stderr[-3000:]}"
    )
    return cli


class Developer:
    """Whoever opens the project: the suite's own user, or where the suite runs as root, an account
    whose uid is not the image's 1000 (root's own files would stay root's, which the image's user
    may not write). The CLI needs the account's name (`id -un`), so its passwd entry is mounted in a
    namespace of these commands only."""

    def __init__(self, home: Path, project: Path, cli: Path):
        self.home, self.project, self.cli = home, project, cli
        self.uid = NON_ROOT_UID if os.getuid() == 0 else os.getuid()
        # The CLI writes its build files under TMPDIR: here they go with the home.
        self.env = {
            **os.environ,
            "HOME": str(home),
            "TMPDIR": str(home),
            "DOCKER": DOCKER,
            "DOCKER_BUILDKIT": "1",
        }
        self.prefix = self._account() if os.getuid() == 0 else []

    def _account(self) -> list[str]:
        entries = {
            "passwd": f"{ACCOUNT}:x:{self.uid}:{self.uid}::{self.home}:/bin/sh",
            "group": f"{ACCOUNT}:x:{self.uid}:",
        }
        for name, entry in entries.items():
            (self.home / name).write_text(Path("/etc", name).read_text() + entry + "\n")
        mount = (
            'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/group && shift 2 && exec "$@"'
        )
        namespace = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, "sh"]
        user = [
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.uid}",
            f"--groups={socket_group_id()}",
            "--",
        ]
        return [*namespace, str(self.home / "passwd"), str(self.home / "group"), *user]

    def devcontainer(self, command: str, *args: str) -> list[str]:
        # Debian's docker client does BuildKit builds, which the Dockerfile's RUN --mount needs.
        return [
            str(self.cli),
            command,
            "--workspace-folder",
            str(self.project),
            "--docker-path",
            DOCKER,
            *args,
        ]

    def run(self, *command: str) -> str:
        """Run a command in the project, as this developer; its output."""
        result = captured([*self.prefix, *command], cwd=self.project, env=self.env, timeout=900)
        assert result.returncode == 0, (
            f"{' '.join(command)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
        return result.stdout

    def inside(self, *command: str) -> str:
        """Run a command in the devcontainer, as `devcontainer exec` (VS Code's terminal) does."""
        return self.run(*self.devcontainer("exec", *command))


def docker(*args: str) -> list[str]:
    return captured([DOCKER, *args], check=True).stdout.split()


@contextlib.contextmanager
def opened_devcontainer(cli: Path, **answers: str):
    """A project baked with these answers, opened in its devcontainer by a developer: (developer,
    container id)."""
    user = NON_ROOT_UID if os.getuid() == 0 else None
    with homed(user, dashboard_port=str(free_port()), **answers) as project:
        try:
            developer = Developer(project.path.parent, project.path, cli)
            up = developer.run(*developer.devcontainer("up"))
            outcome = json.loads(up.strip().splitlines()[-1])
            assert outcome["outcome"] == "success", up
            yield developer, outcome["containerId"]
        finally:
            remove_devcontainer(project.path)


def remove_devcontainer(project: Path) -> None:
    """The devcontainer of project, and the CLI's images of it: vsc-<folder>-<hash>, and the same
    with -uid, where the user takes the host's uid."""
    label = f"label=devcontainer.local_folder={project}"
    containers = docker("ps", "--all", "--quiet", "--filter", label)
    if containers:
        docker("rm", "--force", *containers)
    reference = f"reference=vsc-{project.name}-*"
    images = docker("image", "ls", "--format", "{{.Repository}}", "--filter", reference)
    if images:
        docker("image", "rm", *set(images))


@pytest.fixture(scope="module")
def opened(devcontainer_cli):
    answers = {"project_name": "Repro Devcontainer", "init_git": "yes"}
    with opened_devcontainer(devcontainer_cli, **answers) as opened:
        yield opened


def test_training_in_the_devcontainer_gives_what_make_train_gives(opened):
    developer, _ = opened
    settings = ["--remote-env", "N_ESTIMATORS=10", "--remote-env", "RUN_NAME=in-devcontainer"]
    developer.inside(*settings, "python", "train.py")
    developer.run("make", "train", "N_ESTIMATORS=10", "RUN_NAME=with-make")
    project = Project(developer.project)
    inside, made = project.manifest("in-devcontainer"), project.manifest("with-make")
    for key in ("fingerprint", "model_sha256"):
        assert inside["result"][key] == made["result"][key], key
    assert inside["packages"] == made["packages"] and inside["python"] == made["python"]
    assert inside["hash_seed"] == made["hash_seed"] == "0"
    run = developer.project / "outputs" / "in-devcontainer"
    written = [run, *run.iterdir(), *(developer.project / ".trackio").rglob("*")]
    assert {path.stat().st_uid for path in written} == {developer.uid}


def test_the_devcontainer_runs_the_images_python_with_its_settings(opened):
    developer, _ = opened
    probe = "import os, sys; env = os.environ.get\n"
    probe += "print(sys.executable, os.getcwd(), env('PYTHONHASHSEED'), env('TRACKIO_DIR'))"
    dockerfile_seed = re.search(
        r"PYTHONHASHSEED=(\S+)", (developer.project / "Dockerfile").read_text()
    ).group(1)
    assert developer.inside("python", "-c", probe).split() == [
        "/opt/venv/bin/python",
        "/app",
        dockerfile_seed,
        "/app/.trackio",
    ]


def test_a_user_whose_uid_is_not_1000_writes_to_the_project(opened):
    developer, container = opened
    if developer.uid == 1000:
        pytest.skip(
            "the suite runs as uid 1000, the image's own: run it as root or as another user"
        )
    assert developer.inside("sh", "-c", "id -un; id -u; touch written-inside").split() == [
        "app",
        str(developer.uid),
    ]
    assert (developer.project / "written-inside").stat().st_uid == developer.uid != 1000
    # The image's user takes the uid in an image of the CLI's own, on top of the project's.
    image = docker("inspect", "--format", "{{.Config.Image}}", container)[0]
    assert re.fullmatch(rf"vsc-{PROJECT}-[0-9a-f]+-uid", image)


def test_the_dashboard_in_the_devcontainer_answers_on_the_projects_port(opened):
    developer, container = opened
    port = re.search(r"^PORT \?= (\d+)", (developer.project / "Makefile").read_text(), re.M).group(
        1
    )
    # on 127.0.0.1, as `make dashboard`
    assert docker("port", container) == ["7860/tcp", "->", f"127.0.0.1:{port}"]
    show = ["trackio", "show", "--project", PROJECT, "--host", "0.0.0.0"]
    dashboard = subprocess.Popen(
        [*developer.prefix, *developer.devcontainer("exec", *show)],
        cwd=developer.project,
        env=developer.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for_http(base + "/") == 200
        trained = {run.name for run in (developer.project / "outputs").iterdir()}
        assert trained <= tracked_runs(base, PROJECT)
    finally:
        os.killpg(dashboard.pid, signal.SIGTERM)
        dashboard.wait(timeout=60)
