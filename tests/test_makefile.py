"""The Makefile's decisions, checked with a fake `docker` that records what it is asked to do."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import bake
from test_docker_e2e import order_times

FAKE_DOCKER = """\
#!/usr/bin/env bash
# Records each call; `image inspect` and `build` answer as FAKE_INSPECT / FAKE_BUILD say.
echo "$*" >> "$FAKE_DOCKER_LOG"
case "$1 $2" in
  "image inspect") [[ "$*" == *--format* ]] && echo 123000000; exit "${FAKE_INSPECT:-0}" ;;
  build*) echo "fake build progress" >&2; exit "${FAKE_BUILD:-0}" ;;
esac
"""


class Project:
    def __init__(self, path: Path, fake_bin: Path):
        self.path = path
        self.log = fake_bin / "calls.log"
        self.env = {**os.environ, "DOCKER": str(fake_bin / "docker"), "FAKE_DOCKER_LOG": str(self.log)}

    def make(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        self.log.write_text("")
        return subprocess.run(
            ["make", *args], cwd=self.path, env={**self.env, **env}, capture_output=True, text=True, timeout=60
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def builds(self) -> list[str]:
        return [call for call in self.calls() if call.startswith("build")]

    def stamps(self) -> list[str]:
        stamp_dir = self.path / ".make"
        return sorted(path.name for path in stamp_dir.iterdir()) if stamp_dir.exists() else []

    def touch(self, name: str) -> None:
        order_times(self.path, name)


@pytest.fixture
def project(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "docker").write_text(FAKE_DOCKER)
    (fake_bin / "docker").chmod(0o755)
    project = Project(bake(tmp_path), fake_bin)
    assert project.make("image").returncode == 0
    assert len(project.builds()) == 1
    return project


def test_first_image_builds_and_tags_with_a_content_hash(project):
    project.make("clean")
    result = project.make("image")
    [build] = project.builds()
    assert "--tag my_project:" in build and ":latest" not in build
    tag = build.split("--tag ")[1].split()[0]
    assert len(tag.split(":")[1]) == 12
    assert project.stamps() == [f"image-{tag.split(':')[1]}"]
    assert "Image my_project" in result.stdout


def test_no_op_runs_no_build(project):
    result = project.make("image")
    assert result.returncode == 0
    assert project.builds() == []
    assert any(call.startswith("image inspect") for call in project.calls())


@pytest.mark.parametrize("name", ["requirements.txt", "Dockerfile"])
def test_touching_a_dependency_file_builds(project, name):
    project.touch(name)
    project.make("image")
    assert len(project.builds()) == 1


def test_editing_a_dependency_changes_the_tag(project):
    [old_stamp] = project.stamps()
    with (project.path / "requirements.txt").open("a") as requirements:
        requirements.write("six==1.17.0\n")
    project.make("image")
    [build] = project.builds()
    assert old_stamp.removeprefix("image-") not in build
    assert project.stamps() != [old_stamp] and len(project.stamps()) == 1


def test_editing_code_does_not_build(project):
    project.touch("train.py")
    (project.path / "train.py").write_text((project.path / "train.py").read_text() + "\n# an edit\n")
    project.make("image")
    assert project.builds() == []


def test_a_missing_image_is_rebuilt(project):
    project.make("image", FAKE_INSPECT="1")
    assert len(project.builds()) == 1


def test_a_failing_build_leaves_no_stamp(project):
    project.touch("requirements.txt")
    result = project.make("image", FAKE_BUILD="1")
    assert result.returncode != 0
    assert project.stamps() == []
    result = project.make("image")
    assert result.returncode == 0 and len(project.builds()) == 1
    assert len(project.stamps()) == 1


def test_train_passes_config_and_runs_as_the_calling_user(project):
    project.make("train", SEED="7", MODEL_TYPE="svm")
    [run] = [call for call in project.calls() if call.startswith("run")]
    assert f"--user {os.getuid()}:{os.getgid()}" in run
    assert "-e SEED" in run and "-e MODEL_TYPE" in run
    assert f"-v {project.path}:/app" in run
    assert "--gpus" not in run
    assert project.builds() == []


def test_gpu_adds_all_gpus(project, tmp_path):
    # The fake `docker info` says nothing of nvidia, so the GPU check must stop the run first.
    result = project.make("train", GPU="1")
    assert result.returncode != 0
    assert "GPU=1 needs a GPU runtime" in result.stderr
    fake = Path(project.env["DOCKER"])
    fake.write_text(FAKE_DOCKER.replace("case", '[[ $1 == info ]] && echo "Runtimes: nvidia runc"\ncase', 1))
    project.make("train", GPU="1")
    [run] = [call for call in project.calls() if call.startswith("run")]
    assert "--gpus all" in run


def test_dashboard_is_published_on_localhost_only(project):
    project.make("dashboard", PORT="7999")
    [run] = [call for call in project.calls() if call.startswith("run")]
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
    makefile = (project.path / "Makefile").read_text()
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, flags=re.MULTILINE)
    assert len(targets) >= 8
    for target in targets:
        assert f"  {target} " in result.stdout, target
    for variable in ("PORT", "GPU", "BASE_IMAGE", "IMAGE_MAX_MB", "SEED", "MODEL_TYPE", "N_ESTIMATORS"):
        assert variable in result.stdout
    assert project.calls() == []


FRIENDLY_ERRORS = {
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?": (
        "Docker is not running"
    ),
    "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock": (
        "add yourself to the docker group"
    ),
    "Bind for 127.0.0.1:7860 failed: port is already allocated": "PORT=7861",
    'failed to compute cache key: "/requirements.txt": not found': ".dockerignore",
    "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.": "make lock",
    "ERROR: No matching distribution found for nonexistent-package==0.0.1": "cannot be installed",
}


@pytest.mark.parametrize(("docker_says", "we_say"), FRIENDLY_ERRORS.items())
def test_common_docker_failures_get_one_plain_sentence(tmp_path, docker_says, we_say):
    baked = bake(tmp_path)
    fake = tmp_path / "docker"
    fake.write_text(f"#!/usr/bin/env bash\necho {docker_says!r} >&2\nexit 1\n")
    fake.chmod(0o755)
    result = subprocess.run(
        [baked / "scripts/docker.sh", "build", "."],
        env={**os.environ, "DOCKER": str(fake)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    *_, last = result.stderr.strip().splitlines()
    assert last.startswith("error: ") and we_say in last
    assert docker_says in result.stderr  # Docker's own words stay visible above ours


def test_docker_not_installed_says_so(tmp_path):
    baked = bake(tmp_path)
    result = subprocess.run(
        [baked / "scripts/docker.sh", "info"],
        env={**os.environ, "DOCKER": "no-such-docker"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 127
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Docker is not installed" in result.stderr and "make train-local" in result.stderr


def test_image_over_budget_warns(project):
    project.touch("Dockerfile")
    result = project.make("image", IMAGE_MAX_MB="100")
    assert result.returncode == 0
    assert "123 MB" in result.stdout
    assert "over its budget of 100 MB" in result.stderr
