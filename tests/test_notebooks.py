"""Notebooks in the project's image, on a real engine: JupyterLab on 127.0.0.1 with a token, files
saved as the user, the starter notebook's run in the TrackIO store, the check that notebooks
reproduce, and the starter notebook open in a real browser."""

import json
import os
import re
import shutil
import socket
import urllib.error
import urllib.request

import pytest
from baked import HARDENED, NON_ROOT_UID, captured, confinement, errors, homed, read_store
from conftest import REPO, free_port, taken_port
from test_devcontainer import (
    devcontainer_cli,  # noqa: F401 (a fixture)
    docker,
    opened_devcontainer,
)
from test_docker_e2e import chromium, wait_for_http

pytestmark = pytest.mark.docker

# a name of its own: the tests remove this project's images, and no one else's
PROJECT = "repro_notebooks"
SCREENSHOT = REPO / "build" / "notebook.png"
CELL = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": []}
SOURCES = {
    "seeded": "import numpy\n\nnumpy.random.default_rng(42).normal(size=3)",
    "unseeded": "numpy.random.default_rng().normal(size=3)",
}
UNSEEDED = {
    "cells": [CELL | {"id": name, "source": source} for name, source in SOURCES.items()],
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def project():
    """A project with notebooks,
    in a home of a user who is not root where the suite runs as root."""
    user = NON_ROOT_UID if os.getuid() == 0 else None
    answers = {"project_name": "Repro Notebooks", "include_notebooks": "yes", "init_git": "yes"}
    with homed(user, **answers) as project:
        project.make("notebook-image")
        yield project


@pytest.fixture(scope="module")
def lab(project):
    """`make notebook` running: (its base URL, its token, its container's name)."""
    port = free_port()
    server = project.start("notebook", f"PORT={port}")
    container = f"{PROJECT}-notebook"
    try:
        for line in server.stdout:
            found = re.match(
                rf"JupyterLab: http://127\.0\.0\.1:{port}/lab\?token=([0-9a-f]{{48}}) ", line
            )
            if found:
                break
        else:
            pytest.fail("make notebook printed no URL with a token")
        base = f"http://127.0.0.1:{port}"
        token = found.group(1)
        assert wait_for_http(f"{base}/api/status?token={token}") == 200
        yield base, token, container
    finally:
        project.docker("stop", "--time", "5", container)
        server.communicate(timeout=60)
    assert project.docker("ps", "--quiet", "--filter", f"name={container}").stdout.strip() == ""


def status(url: str, method: str = "GET", body: dict | None = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def other_addresses() -> list[str]:
    """This machine's addresses besides the loopback: its network's and Docker's bridge."""
    listed = captured(["hostname", "--all-ip-addresses"], check=True)
    return [address for address in listed.stdout.split() if ":" not in address]


# Before JupyterLab starts for the other tests: its container would hold the name.
def test_a_taken_port_fails_fast_and_names_the_target(project):
    with taken_port() as port:
        result = project.fails("notebook", f"PORT={port}", timeout=120)
    assert (
        f"Port {port} is already in use" in result.stderr
        and f"make notebook PORT={port + 1}" in result.stderr
    )


def test_jupyterlab_answers_on_localhost_only_and_only_with_its_token(project, lab):
    base, token, container = lab
    assert status(f"{base}/api/contents/notebooks?token={token}") == 200
    assert status(f"{base}/api/contents/notebooks") == 403
    assert status(f"{base}/api/contents/notebooks?token={'0' * 48}") == 403
    port = base.rsplit(":", 1)[1]
    assert project.docker("port", container).stdout.split() == [
        "8888/tcp",
        "->",
        f"127.0.0.1:{port}",
    ]
    addresses = other_addresses()
    assert addresses
    for address in addresses:
        with pytest.raises(OSError), socket.create_connection((address, int(port)), timeout=5):
            pass
    user = HARDENED["User"] if project.user is None else f"{project.user}:{project.user}"
    assert confinement(container) == HARDENED | {"User": user}


def test_a_notebook_saved_in_jupyterlab_belongs_to_the_user(project, lab):
    base, token, _ = lab
    notebook = {"type": "notebook", "format": "json", "content": UNSEEDED}
    assert (
        status(f"{base}/api/contents/notebooks/saved.ipynb?token={token}", "PUT", notebook) == 201
    )
    saved = project.path / "notebooks" / "saved.ipynb"
    try:
        assert saved.stat().st_uid == (project.user or os.getuid())
        assert (
            "".join(json.loads(saved.read_text())["cells"][1]["source"])
            == UNSEEDED["cells"][1]["source"]
        )
    finally:
        saved.unlink()


def test_the_starter_notebook_runs_in_the_container_and_logs_a_run(project, lab):
    _, _, container = lab
    executed = project.docker(
        "exec", "--workdir", "/app/notebooks", container, "jupyter", "execute", "start.ipynb"
    )
    assert executed.returncode == 0, executed.stderr[-3000:]
    store = project.path / ".trackio" / f"{PROJECT}.db"
    assert store.stat().st_uid == (project.user or os.getuid())
    with read_store(store) as tracked:
        rows = tracked.execute(
            "SELECT run_name, step FROM metrics WHERE run_name LIKE 'notebook-seed42-%'"
        )
        steps = sorted(rows.fetchall())
    assert {name for name, _ in steps} and [step for _, step in steps] == [1, 2, 3, 4, 5], steps


def test_the_starter_notebook_open_in_jupyterlab_in_a_real_browser(lab):
    base, token, _ = lab
    page = f"{base}/lab/tree/notebooks/start.ipynb?token={token}"
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    shot = chromium("--virtual-time-budget=40000", f"--screenshot={SCREENSHOT}", page)
    assert SCREENSHOT.exists(), shot.stderr[-2000:]
    assert SCREENSHOT.stat().st_size > 30_000


def test_verify_notebooks_names_an_unseeded_draw_and_passes_the_starter(project):
    unseeded = project.path / "notebooks" / "unseeded.ipynb"
    unseeded.write_text(json.dumps(UNSEEDED))
    if project.user is not None:
        shutil.chown(unseeded, project.user, project.user)
    try:
        result = project.fails("verify-notebooks")
    finally:
        unseeded.unlink()
    assert "OK: notebooks/start.ipynb showed the same outputs in two fresh kernels" in result.stdout
    [cell, summary] = errors(result.stderr)
    where = "error: notebooks/unseeded.ipynb: cell 2"
    assert cell.startswith(f"{where} ('numpy.random.default_rng().normal(")
    assert "first run 'text/plain: array([" in cell and "second run 'text/plain: array([" in cell
    assert summary == "error: 1 of 2 notebooks did not reproduce (docs/notebooks.md)"
    result = project.make("verify-notebooks")
    assert "OK: notebooks/start.ipynb" in result.stdout


def test_the_training_image_has_no_notebook_tools_and_the_notebook_image_is_built_once(project):
    again = project.make("notebook-image")
    assert "Building" not in again.stdout
    imported = project.docker("run", "--rm", project.image(), "python", "-c", "import jupyterlab")
    assert imported.returncode != 0 and "No module named 'jupyterlab'" in imported.stderr


def test_the_devcontainer_opens_the_notebook_image_with_its_kernel(request):
    """VS Code's "Reopen in Container": the notebook image, built on the host first,
    with the image's kernel."""
    answers = {"project_name": "Repro Nb Devcontainer", "include_notebooks": "yes"}
    cli = request.getfixturevalue("devcontainer_cli")
    with opened_devcontainer(cli, **answers) as (developer, container):
        kernels = json.loads(developer.inside("jupyter", "kernelspec", "list", "--json"))[
            "kernelspecs"
        ]
        assert kernels["python3"]["spec"]["argv"][0] in ("python", "/opt/venv/bin/python"), kernels
        probe = "import sys, ipykernel; print(sys.executable)"
        assert developer.inside("python", "-c", probe).split() == ["/opt/venv/bin/python"]
        [image] = docker("inspect", "--format", "{{.Config.Image}}", container)
        # the CLI's image, with the user's uid, on the notebook image
        assert image.startswith("vsc-"), image
