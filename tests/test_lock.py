"""A lock on a real engine: `make image` resolves requirements.in in the image's Python, with hashes."""

import re

import pytest
from conftest import bake
from test_docker_e2e import Project, built

pytestmark = pytest.mark.docker

REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.MULTILINE)


def hashes_by_package(lock: str) -> dict[str, list[str]]:
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.MULTILINE)
    return {REQUIREMENT.match(block).group(1): re.findall(r"--hash=sha256:[0-9a-f]{64}", block) for block in blocks[1:]}


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    project = Project(bake(tmp_path_factory.mktemp("lock"), project_name="Repro Lock", init_git="yes"))
    pins = (project.path / "requirements.txt").read_text()
    project.edit("requirements.in", pins)
    assert built(project.make("image"))
    assert (project.path / "requirements.in").read_text() == pins
    yield project
    project.make("clean", check=False)


def test_lock_pins_every_package_with_hashes(locked):
    lock = (locked.path / "requirements.txt").read_text()
    packages = hashes_by_package(lock)
    assert len(packages) > 30  # the direct pins and everything they pull in
    assert all(packages.values()), [name for name, hashes in packages.items() if not hashes]
    for name, version in REQUIREMENT.findall((locked.path / "requirements.in").read_text()):
        assert f"{name}=={version}" in lock


def test_an_image_built_from_the_lock_trains(locked):
    assert not built(locked.make("image"))
    result = locked.make("train", "N_ESTIMATORS=10")
    assert "Outputs in /app/outputs/" in result.stdout


def test_locking_again_changes_nothing_and_rebuilds_nothing(locked):
    lock = (locked.path / "requirements.txt").read_text()
    locked.edit("requirements.in", (locked.path / "requirements.in").read_text() + "# a comment\n")
    result = locked.make("image")
    assert "scripts/lock.sh" in result.stdout and not built(result)
    assert (locked.path / "requirements.txt").read_text() == lock


def test_a_tampered_hash_fails_the_build_clearly(locked):
    lock = (locked.path / "requirements.txt").read_text()
    [joblib] = re.findall(r"^joblib==.*?(?=^\S)", lock, flags=re.MULTILINE | re.DOTALL)
    locked.edit("requirements.txt", lock.replace(joblib, re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, joblib)))
    try:
        result = locked.make("image", check=False)
    finally:
        locked.edit("requirements.txt", lock)
    assert result.returncode != 0
    assert "hash" in result.stderr.lower() and "joblib" in result.stderr
    assert "error: A downloaded package does not match its hash in requirements.txt" in result.stderr
    assert not list((locked.path / ".make").glob("image-*"))
