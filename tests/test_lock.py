"""The lock on a real engine: every package of the image locked with hashes, relocks that say what
moved, a newer release on an index that stays out, and a base image that moves under its tag."""

import contextlib
import hashlib
import io
import re
import zipfile
from pathlib import Path

import pytest
from baked import Project, built, captured, errors, served
from conftest import bake

pytestmark = pytest.mark.docker

REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)", re.MULTILINE)
MOVED_BASE = "repro-lock-base:moving"  # a tag of this test's own, moved under the project


def hashes_by_package(lock: str) -> dict[str, list[str]]:
    blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", lock, flags=re.MULTILINE)
    return {
        REQUIREMENT.match(block).group(1): re.findall(r"--hash=sha256:[0-9a-f]{64}", block)
        for block in blocks[1:]
    }


def relocked(result) -> bool:
    return re.search(r"^lock: ", result.stdout, re.M) is not None


def installed(project: Project) -> dict[str, str]:
    """name -> version of every distribution in the image's virtualenv."""
    listing = (
        "import importlib.metadata as m; "
        "[print(d.metadata['Name'].lower(), d.version) for d in m.distributions()]"
    )
    printed = project.docker("run", "--rm", project.image(), "python", "-c", listing).stdout
    versions = dict(line.split() for line in printed.splitlines())
    return {re.sub(r"[-_.]+", "-", name): version for name, version in versions.items()}  # PEP 503


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    project = Project(
        bake(tmp_path_factory.mktemp("lock"), project_name="Repro Lock", init_git="yes")
    )
    project.make("clean")  # an image left by an earlier, interrupted session would be up to date
    result = project.make("image")
    assert built(result) and not relocked(result)  # the template's lock is up to date
    yield project
    project.make("clean", check=False)


def test_every_package_of_the_image_is_locked_with_hashes(locked):
    lock = locked.read("requirements.txt")
    packages = hashes_by_package(lock)
    assert all(packages.values()), [name for name, hashes in packages.items() if not hashes]
    linux = {
        name: version for name, version in REQUIREMENT.findall(lock) if name not in ("colorama",)
    }
    image = installed(locked)
    assert image.keys() <= packages.keys()  # nothing that the lock does not name
    for name, version in image.items():
        assert f"{name}=={version}" in lock, name
    assert len(image) >= 40 and "scipy" in image and "tzdata" in image
    for name, version in REQUIREMENT.findall(locked.read("requirements.in")):
        assert image[name] == version and name in linux


def test_an_added_package_relocks_says_what_moved_and_rebuilds_once(locked):
    locked.edit("requirements.in", locked.read("requirements.in") + "six\n")
    result = locked.make("image")
    assert re.search(r"^lock: \+ six 1\.\d+\.\d+$", result.stdout, re.M), result.stdout
    assert built(result)
    again = locked.make("image")
    assert not built(again) and not relocked(again)
    assert "six" in installed(locked)


def test_nothing_moves_unless_requirements_in_asks_or_upgrade_does(locked):
    source, lock = locked.read("requirements.in"), locked.read("requirements.txt")
    assert "lock: no package moved" in locked.make("lock").stdout
    assert locked.read("requirements.txt") == lock
    locked.edit("requirements.in", source + "tzdata==2025.2\n")
    assert "lock: tzdata 2026.6 -> 2025.2" in locked.make("lock").stdout
    locked.edit("requirements.in", source)
    assert "lock: no package moved" in locked.make("lock").stdout  # the locked version stays
    upgraded = locked.make("lock", "UPGRADE=1").stdout
    assert re.search(r"^lock: .*\btzdata 2025\.2 -> 20\d\d\.\d+", upgraded, re.M), upgraded


def test_a_lock_that_cannot_be_made_changes_nothing(locked):
    lock = locked.read("requirements.txt")
    unknown = "no-such-package-for-repro-template==0.0.1\n"
    with locked.edited("requirements.in", locked.read("requirements.in") + unknown):
        result = locked.fails("image")
    assert not built(result)
    assert "error: requirements.in cannot be locked (uv says why above)" in result.stderr
    assert locked.read("requirements.txt") == lock


def fake_wheel(name: str, version: str) -> bytes:
    """A wheel of a package that imports, with the metadata an installer reads."""
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f'IANA_VERSION = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return buffer.getvalue()


@contextlib.contextmanager
def wheel_index(root: Path, name: str, version: str):
    """A PEP 503 index on 127.0.0.1 that offers one newer release; yields its URL."""
    wheel = fake_wheel(name, version)
    filename = f"{name}-{version}-py3-none-any.whl"
    (root / name).mkdir(parents=True)
    (root / name / filename).write_bytes(wheel)
    digest = hashlib.sha256(wheel).hexdigest()
    (root / name / "index.html").write_text(
        f'<a href="{filename}#sha256={digest}">{filename}</a>\n'
    )
    with served(root) as url:
        yield url


def test_a_newer_release_on_an_index_stays_out_of_a_rebuilt_image(locked, tmp_path):
    locked_tzdata = dict(REQUIREMENT.findall(locked.read("requirements.txt")))["tzdata"]
    with wheel_index(tmp_path / "simple", "tzdata", "2099.1") as index:
        flags = f"BUILD_FLAGS=--no-cache --network=host --build-arg EXTRA_INDEX_URL={index}"
        assert built(locked.make("image", flags))
        assert installed(locked)["tzdata"] == locked_tzdata
        # The same index and build without the lock, as the project was before: the release gets in.
        unlocked = tmp_path / "unlocked"
        unlocked.mkdir()
        (unlocked / "requirements.txt").write_text(locked.read("requirements.in"))
        sync, install = "uv pip sync --require-hashes", "uv pip install -r"
        (unlocked / "Dockerfile").write_text(locked.read("Dockerfile").replace(sync, install))
        (unlocked / "train.py").write_text("")
        tag = "repro-lock-unlocked:test"
        build = ["build", "--no-cache", "--network=host", "--build-arg", f"EXTRA_INDEX_URL={index}"]
        docker_sh = locked.path / "scripts" / "docker.sh"
        built_unlocked = captured([docker_sh, *build, "-t", tag, str(unlocked)], env=locked.env)
        assert built_unlocked.returncode == 0, built_unlocked.stderr[-3000:]
    try:
        check = locked.docker(
            "run", "--rm", tag, "python", "-c", "import tzdata; print(tzdata.IANA_VERSION)"
        )
        assert check.stdout.strip() == "2099.1"
    finally:
        locked.docker("image", "rm", "--force", tag)


def test_a_base_that_moves_under_its_tag_is_caught(locked, tmp_path):
    assert locked.docker("tag", "python:3.11-slim", MOVED_BASE).returncode == 0
    try:
        first = locked.make("image", f"BASE_IMAGE={MOVED_BASE}")
        assert f"base: pinned {MOVED_BASE} (linux/amd64) at its id sha256:" in first.stdout
        (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nLABEL moved=yes\n")
        assert locked.docker("build", "-t", MOVED_BASE, str(tmp_path)).returncode == 0
        moved = locked.fails("image", f"BASE_IMAGE={MOVED_BASE}")
        assert not built(moved)
        [error] = errors(moved.stderr)
        assert f"error: {MOVED_BASE} (linux/amd64) is now sha256:" in error
        assert (
            "keep the old base under its tag (docker tag sha256:" in error
            and "BASE_UPDATE=1" in error
        )
        taken = locked.make("image", f"BASE_IMAGE={MOVED_BASE}", "BASE_UPDATE=1")
        assert built(taken) and "base: pinned" in taken.stdout
        assert '"moved":"yes"' in locked.inspect("{{json .Config.Labels}}", locked.image())
    finally:
        locked.docker("image", "rm", "--force", MOVED_BASE)


def test_a_tampered_hash_fails_the_build_clearly(locked):
    lock = locked.read("requirements.txt")
    [joblib] = re.findall(r"^joblib==.*?(?=^\S)", lock, flags=re.MULTILINE | re.DOTALL)
    tampered = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, joblib)
    with locked.edited("requirements.txt", lock.replace(joblib, tampered)):
        result = locked.fails("image")
    assert "hash" in result.stderr.lower() and "joblib" in result.stderr
    assert (
        "error: A downloaded package does not match its hash in requirements.txt" in result.stderr
    )
    assert not list((locked.path / ".make").glob("image-*"))


def test_a_package_added_to_the_lock_by_hand_is_refused_with_the_way(locked):
    with locked.edited("requirements.txt", locked.read("requirements.txt") + "six==1.17.0\n"):
        result = locked.fails("image")
    assert "error: requirements.txt is the lock, made from requirements.in" in result.stderr


def test_reproduce_says_same_lock_or_lists_what_moved(locked):
    locked.make("image")
    locked.make("train", "N_ESTIMATORS=10", "RUN_NAME=locked-run")
    same = locked.make("reproduce", "RUN=locked-run")
    assert "note: same lock (requirements.txt " in same.stderr and "lock:" not in same.stderr
    with locked.edited("requirements.in", locked.read("requirements.in") + "six==1.16.0\n"):
        moved = locked.make("reproduce", "RUN=locked-run")
    assert "note: same lock" not in moved.stderr
    assert re.search(r"^  lock: [0-9a-f]{64} -> [0-9a-f]{64}$", moved.stderr, re.M), moved.stderr
    assert re.search(r"^  packages six: \S+ -> 1\.16\.0$", moved.stderr, re.M), moved.stderr
    assert "OK: run locked-run reproduced" in moved.stdout
