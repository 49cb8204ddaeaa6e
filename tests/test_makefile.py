"""The Makefile's decisions, checked with a fake `docker` that records what it is asked to do."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from baked import captured, errors, fake_project
from conftest import bake

UNCHANGED = ["requirements.txt", "Dockerfile", "requirements.in"]  # touched, not changed
TAG = re.compile(r"--tag (my_project:([0-9a-f]{12})-linux-(amd64|arm64)) ")


@pytest.fixture
def project(tmp_path):
    project = fake_project(tmp_path)
    assert project.make("image").returncode == 0
    assert len(project.builds()) == 1
    return project


def test_first_image_builds_and_tags_with_a_content_hash_and_the_platform(project):
    project.make("clean")
    result = project.make("image")
    [build] = project.builds()
    image, content_hash, _ = TAG.search(build).groups()
    assert f"--platform linux/{TAG.search(build).group(3)}" in build and ":latest" not in build
    assert project.stamps() == [f"image-{image.split(':')[1]}"]
    assert f"Image {image} is up to date." in result.stdout and "Image my_project" in result.stdout
    assert len(content_hash) == 12


@pytest.mark.parametrize("touched", [None, *UNCHANGED, "train.py"])
def test_nothing_the_image_holds_changed_builds_and_locks_nothing(project, touched):
    """A no-op, a dependency file touched but not changed, or an edit of code, which the image
    does not hold."""
    if touched == "train.py":
        project.edit("train.py", project.read("train.py") + "\n# an edit\n")
    elif touched:
        project.touch(touched)
    assert project.make("image").returncode == 0
    assert project.builds() == [] and project.calls("run") == []
    assert project.calls("image inspect")


def test_editing_a_dependency_changes_the_tag(project):
    [old_stamp] = project.stamps()
    project.edit("requirements.txt", project.read("requirements.txt") + "six==1.17.0\n")
    project.make("image")
    [build] = project.builds()
    assert old_stamp.removeprefix("image-") not in build
    assert project.stamps() != [old_stamp] and len(project.stamps()) == 1


def test_another_platform_has_its_own_tag_and_stamp(project):
    [native] = project.stamps()
    project.make("image", "PLATFORM=linux/arm64", FAKE_BASE_PLATFORM="linux/arm64")
    [build] = project.builds()
    assert "--platform linux/arm64" in build and TAG.search(build).group(1).endswith("-linux-arm64")
    arm64 = f"{native.rsplit('-', 1)[0]}-arm64"
    assert project.stamps() == sorted([native, arm64])  # each platform keeps its own
    project.make("image")
    assert project.builds() == []  # so going back to this machine's platform builds nothing


def test_build_flags_always_build(project):
    project.make("image", "BUILD_FLAGS=--no-cache")
    [build] = project.builds()
    assert "--no-cache" in build


def test_a_missing_image_is_rebuilt(project):
    project.make("image", FAKE_INSPECT="1")
    assert len(project.builds()) == 1


def test_run_facts_cover_uncommitted_and_untracked_changes(tmp_path):
    project = bake(tmp_path, init_git="yes")

    def facts() -> dict:
        printed = captured(["scripts/run-facts.sh"], cwd=project, check=True)
        return dict(line.split("=", 1) for line in printed.stdout.splitlines())

    clean = facts()
    assert clean["GIT_DIRTY"] == "false" and len(clean["GIT_COMMIT"]) == 40
    hashes = set()
    for content in ("SECRET_TWEAK = 1\n", "SECRET_TWEAK = 2\n"):
        (project / "features.py").write_text(content)
        assert facts()["GIT_DIRTY"] == "true"
        hashes.add(facts()["GIT_DIFF_SHA256"])
    assert len(hashes) == 2 and clean["GIT_DIFF_SHA256"] not in hashes


def test_a_failing_build_leaves_no_stamp(project):
    project.edit("Dockerfile", project.read("Dockerfile") + "# edit\n")
    project.fails("image", FAKE_BUILD="1")
    assert project.stamps() == []
    assert project.make("image").returncode == 0 and len(project.builds()) == 1
    assert len(project.stamps()) == 1


def test_an_edited_requirements_in_is_locked_before_the_build(project):
    project.edit("requirements.in", project.read("requirements.in") + "six==1.17.0\n")
    assert project.make("image").returncode == 0
    [lock_stage] = project.builds()  # the fake lock leaves requirements.txt as it was: no new image
    assert "--target uv --tag my_project-uv" in lock_stage
    [lock] = project.calls("run")
    assert "my_project-uv python3 scripts/lock.py" in lock and "--upgrade" not in lock
    for hardening in ("--cap-drop=ALL", "--read-only", f"--user {os.getuid()}:{os.getgid()}"):
        assert hardening in lock
    project.make("lock", "UPGRADE=1")
    [lock] = project.calls("run")
    assert lock.endswith("scripts/lock.py --upgrade")


def test_the_first_image_pins_the_base_and_its_id_is_part_of_the_tag(tmp_path):
    project = fake_project(tmp_path)
    assert not (project.path / "base-image.lock").exists()
    result = project.make("image", FAKE_BASE_ID="aaaa")
    assert "base: pinned python:3.11-slim (linux/amd64) at its id sha256:aaaa" in result.stdout
    pins = project.read("base-image.lock").splitlines()
    assert pins[1:] == ["python:3.11-slim linux/amd64 id sha256:aaaa"]
    [first] = project.builds()
    assert "--label org.opencontainers.image.base.digest=sha256:aaaa" in first
    (project.path / "base-image.lock").write_text(
        pins[0] + "\npython:3.11-slim linux/amd64 id sha256:bbbb\n"
    )
    project.make("image", FAKE_BASE_ID="bbbb")
    [second] = project.builds()
    assert TAG.search(second).group(2) != TAG.search(first).group(2)


def test_a_pulled_base_is_pinned_by_its_digest_and_built_from_it(tmp_path):
    project = fake_project(tmp_path)
    # Pushed elsewhere under another name, then pulled: only the digest of its own name is its own.
    digests = "registry.example.org/python@sha256:9999 python@sha256:abcd"
    project.make("image", FAKE_BASE_DIGESTS=digests)
    assert "python:3.11-slim linux/amd64 digest sha256:abcd" in project.read("base-image.lock")
    [build] = project.builds()
    assert "--build-arg BASE_IMAGE=python:3.11-slim@sha256:abcd " in build
    moved = project.make("image", "BUILD_FLAGS=--pull", FAKE_BASE_DIGESTS="python@sha256:ef01")
    [build] = project.builds()
    assert moved.returncode == 0 and "--build-arg BASE_IMAGE=python:3.11-slim@sha256:abcd " in build
    assert "note: python:3.11-slim has moved on; building on the pinned sha256:abcd" in moved.stderr


def test_a_digest_of_another_name_is_not_the_bases(tmp_path):
    project = fake_project(tmp_path)
    project.make("image", FAKE_BASE_DIGESTS="127.0.0.1:5000/mirror/python@sha256:9999")
    assert "python:3.11-slim linux/amd64 id sha256:1111" in project.read("base-image.lock")


def test_a_base_that_moved_under_its_tag_stops_the_build_until_taken_on_purpose(project):
    pinned = project.read("base-image.lock")
    [error] = errors(project.fails("image", FAKE_BASE_ID="2222").stderr)
    assert project.builds() == []
    assert "python:3.11-slim (linux/amd64) is now sha256:2222" in error
    assert "not the sha256:1111 that base-image.lock pins" in error and "BASE_UPDATE=1" in error
    assert project.read("base-image.lock") == pinned
    result = project.make("image", "BASE_UPDATE=1", FAKE_BASE_ID="2222")
    assert result.returncode == 0 and len(project.builds()) == 1
    assert "python:3.11-slim linux/amd64 id sha256:2222" in project.read("base-image.lock")


def test_each_platform_pins_its_own_base(project):
    project.make(
        "image",
        "PLATFORM=linux/arm64",
        "BASE_IMAGE=arm64v8/python:3.11-slim",
        FAKE_BASE_PLATFORM="linux/arm64",
    )
    pins = project.read("base-image.lock").splitlines()[1:]
    assert pins == [
        "python:3.11-slim linux/amd64 id sha256:1111",
        "arm64v8/python:3.11-slim linux/arm64 id sha256:1111",
    ]
    result = project.fails("image", "PLATFORM=linux/arm64")  # python:3.11-slim here is amd64's
    assert "is not for linux/arm64" in result.stderr


def test_train_passes_the_settings_given_to_make_and_runs_as_the_calling_user(project):
    project.make("train", "SEED=7", "MODEL_TYPE=svm", OTHER_SETTING="from-the-environment")
    [run] = project.calls("run")
    assert f"--user {os.getuid()}:{os.getgid()}" in run and "-e HOME=/tmp" in run
    assert "-e SEED" in run and "-e MODEL_TYPE" in run and "OTHER_SETTING" not in run
    assert f"-v {project.path}:/app" in run and "--env-file /dev/fd/" in run
    assert "--gpus" not in run and "--memory" not in run
    for hardening in (
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "--read-only",
        "--tmpfs /tmp",
    ):
        assert hardening in run
    project.make("train", "MEMORY=2g")
    [run] = project.calls("run")
    assert "--memory 2g" in run
    assert project.builds() == []


def test_gpu_adds_all_gpus_or_says_what_is_missing(tmp_path):
    project = fake_project(tmp_path, framework="pytorch")
    [error] = errors(project.fails("train", "GPU=1").stderr)
    assert error.startswith("error: GPU=1 needs a GPU runtime in Docker")
    project.make("train", "GPU=1", FAKE_GPU="1")
    [run] = project.calls("run")
    assert "--gpus all" in run


def test_a_scikit_learn_project_offers_no_gpu(project):
    assert "GPU" not in project.make("help").stdout
    project.make("train", "GPU=1")
    [run] = project.calls("run")
    assert "--gpus" not in run


def test_dashboard_is_published_on_localhost_only(project):
    project.make("dashboard", "PORT=7999")
    [run] = project.calls("run")
    assert "-p 127.0.0.1:7999:7860" in run
    assert "--host 0.0.0.0" in run


def test_clean_keeps_outputs_and_runs(project):
    for kept in ("outputs/run-1/metrics.json", ".trackio/my_project.db"):
        (project.path / kept).parent.mkdir(parents=True, exist_ok=True)
        (project.path / kept).write_text("keep me")
    project.make("clean")
    assert project.stamps() == []
    assert (project.path / "outputs/run-1/metrics.json").read_text() == "keep me"
    assert (project.path / ".trackio/my_project.db").exists()


def test_help_lists_every_target_and_variable(project):
    result = project.make()
    for target in re.findall(r"^([a-z-]+):.*## ", project.read("Makefile"), flags=re.MULTILINE):
        assert f"  {target} " in result.stdout, target
    variables = (
        "PORT",
        "MEMORY",
        "PLATFORM",
        "BASE_IMAGE",
        "BASE_UPDATE",
        "UPGRADE",
        "EXTRA_INDEX_URL",
    )
    for variable in (*variables, "IMAGE_MAX_MB", "BUILD_FLAGS"):
        assert f"  {variable} " in result.stdout, variable
    assert "(now: linux/amd64)" in result.stdout or "(now: linux/arm64)" in result.stdout
    assert "field of config.py in capitals" in result.stdout
    assert project.calls() == []


FRIENDLY_ERRORS = {
    (
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."
        " Is the docker daemon running?"
    ): "Docker is not running",
    (
        "permission denied while trying to connect to the Docker daemon socket"
        " at unix:///var/run/docker.sock"
    ): "add yourself to the docker group",
    "Bind for 127.0.0.1:7860 failed: port is already allocated": "PORT=7861",
    'failed to compute cache key: "/requirements.txt": not found': ".dockerignore",
    "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.": "docs/docker.md",
    "No solution found when resolving dependencies: nonexistent-package==0.0.1": (
        "cannot be installed"
    ),
    'could not select device driver "" with capabilities: [[gpu]]': "NVIDIA Container Toolkit",
    'Conflict. The container name "/my_project-dashboard" is already in use by container': (
        "docker stop"
    ),
}


def docker_sh(project: Path, docker: str, *args: str) -> subprocess.CompletedProcess:
    """The project's scripts/docker.sh, with this docker."""
    command = [project / "scripts/docker.sh", *args]
    env = {**os.environ, "DOCKER": docker}
    return captured(command, env=env)


@pytest.mark.parametrize(("docker_says", "we_say"), FRIENDLY_ERRORS.items())
def test_common_docker_failures_get_one_plain_sentence(tmp_path, docker_says, we_say):
    baked = bake(tmp_path)
    fake = tmp_path / "docker"
    fake.write_text(f"#!/usr/bin/env bash\necho {docker_says!r} >&2\nexit 1\n")
    fake.chmod(0o755)
    result = docker_sh(baked, str(fake), "build", ".")
    assert result.returncode == 1
    *_, last = result.stderr.strip().splitlines()
    assert last.startswith("error: ") and we_say in last
    assert docker_says in result.stderr  # Docker's own words stay visible above ours


@pytest.mark.parametrize("docker", ["no-such-docker", "/no/such/docker"])
def test_docker_not_installed_says_so(tmp_path, docker):
    result = docker_sh(bake(tmp_path), docker, "info")
    assert result.returncode == 127
    [shell_says, we_say] = result.stderr.strip().splitlines()
    assert docker in shell_says
    assert we_say.startswith("error: Docker is not installed") and "make train-local" in we_say


def test_image_over_budget_warns(project):
    project.edit("Dockerfile", project.read("Dockerfile") + "# changed\n")
    result = project.make("image", "IMAGE_MAX_MB=100")
    assert result.returncode == 0
    assert "123 MB" in result.stdout
    assert "over its budget of 100 MB" in result.stderr
