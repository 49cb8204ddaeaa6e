import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parents[1]
# Debian's docker client does BuildKit builds; some machines have an older one first on PATH.
DOCKER = os.environ.get("DOCKER") or (
    "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
)


# Tests drive a project's make as a user at a shell would: not as a sub-make of `make test`,
# whose variables would change what that make prints.
for variable in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS"):
    os.environ.pop(variable, None)


def bake(output_dir: Path, **answers: str) -> Path:
    """Generate a project from the template,
    as `cookiecutter --no-input` with these answers would."""
    answers.setdefault("init_git", "no")
    return Path(
        cookiecutter(str(REPO), no_input=True, extra_context=answers, output_dir=str(output_dir))
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def taken_port():
    """A TCP port on 127.0.0.1 that something listens on, inside the with."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def training_container(project: Path, seconds: float = 60) -> str:
    """The id of the container that runs train.py with this project folder mounted,
    once it has started."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        listed = subprocess.run(
            [DOCKER, "ps", "--quiet"], capture_output=True, text=True, check=True
        ).stdout
        for container in listed.split():
            inspect = [
                DOCKER,
                "inspect",
                "--format",
                "{{json .Mounts}}\t{{json .Config.Cmd}}",
                container,
            ]
            # it may have ended since ps
            found = subprocess.run(inspect, capture_output=True, text=True)
            mounts, _, command = found.stdout.partition("\t")
            ours = found.returncode == 0 and "train.py" in command
            if ours and any(mount["Source"] == str(project) for mount in json.loads(mounts)):
                return container
        time.sleep(0.1)
    pytest.fail(f"no container ran train.py in {project} within {seconds} s")


def docker_is_reachable() -> bool:
    try:
        return subprocess.run([DOCKER, "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def pytest_collection_modifyitems(config, items):
    """Docker tests skip where no engine answers, with how to start one; in CI they must run."""
    if not any("docker" in item.keywords for item in items) or docker_is_reachable():
        return
    reason = (
        "no Docker engine answers: run `sudo scripts/provision-docker.sh`"
        " (and scripts/make-base-image.sh)"
    )
    if os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the Docker tests, but {reason}")
    for item in items:
        if "docker" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


def tool(name: str) -> str:
    """A command from this virtualenv, or else from PATH."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    return found or pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")


@pytest.fixture(scope="session")
def ruff() -> str:
    return tool("ruff")


SKIPPED: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """In CI every test must run: a skip there hides a missing install step."""
    if os.environ.get("CI") and SKIPPED and exitstatus == 0:
        print(f"\nCI must run every test, but {len(SKIPPED)} skipped: {', '.join(SKIPPED[:5])}")
        session.exitstatus = 1
