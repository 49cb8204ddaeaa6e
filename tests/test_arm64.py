"""The project built and trained for linux/arm64 (Apple Silicon's architecture) under qemu, against
linux/amd64: the results that docs/reproducibility.md reports, and what `make reproduce` says across
the two."""

import contextlib
import json
import platform
import re
import subprocess
from pathlib import Path

import pytest
from baked import Project, captured
from conftest import DOCKER, bake

pytestmark = pytest.mark.docker

# a name of its own: `make clean` removes this project's images, and no one else's
PROJECT = "repro_arm"
# a local tag holds one platform: the arm64 stand-in has its own name
ARM64_BASE = "arm64v8/python:3.11-slim"
ARM64 = ("PLATFORM=linux/arm64", f"BASE_IMAGE={ARM64_BASE}")
MODELS = ("random_forest", "svm", "logistic_regression")
FAST = "N_ESTIMATORS=10"
BINFMT = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
PROVISION = (
    f"sudo scripts/make-base-image.sh {ARM64_BASE} linux/arm64 (it also registers qemu's handler)"
)


def image_here(image: str, platform: str) -> bool:
    """Whether image is on this machine for platform, pulled first if need be
    (where Docker Hub answers)."""

    def here() -> bool:
        inspect = [DOCKER, "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", image]
        return captured(inspect).stdout.strip() == platform

    if not here():
        # an unreachable registry can make a pull hang
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                [DOCKER, "pull", "--platform", platform, image], capture_output=True, timeout=120
            )
    return here()


def arm64_missing() -> str | None:
    """Why this machine cannot build and run linux/arm64 images next to its own linux/amd64 ones,
    or None."""
    if platform.machine() != "x86_64":
        return (
            "compares emulated linux/arm64 with native linux/amd64,"
            f" and this machine is {platform.machine()}"
        )
    if not BINFMT.exists() or not BINFMT.read_text().startswith("enabled"):
        return (
            "no qemu-aarch64 binfmt_misc handler is enabled, so arm64 programs cannot run:"
            f" run `{PROVISION}`"
        )
    if not image_here(ARM64_BASE, "linux/arm64"):
        return f"no arm64 base image {ARM64_BASE}: run `{PROVISION}`"
    return None


def documented_results(project: Path) -> dict[str, tuple[bool, bool]]:
    """docs/reproducibility.md's table: for each model,
    whether arm64 gave amd64's fingerprint and model hash."""
    table = (project / "docs" / "reproducibility.md").read_text()
    rows = re.findall(r"^\| linux/arm64 \| (\w+) \| (yes|no) \| (yes|no) \|$", table, re.M)
    return {
        model: (fingerprint == "yes", model_hash == "yes")
        for model, fingerprint, model_hash in rows
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    reason = arm64_missing()
    if reason:
        pytest.skip(reason)
    project = Project(
        bake(tmp_path_factory.mktemp("arm64"), project_name="Repro Arm", init_git="yes")
    )
    project.make("image")
    project.make("image", *ARM64)
    yield project
    project.make("clean", check=False)


@pytest.fixture(scope="module")
def runs(project) -> dict[str, dict]:
    """Each model trained with the same settings on both architectures: run name -> manifest."""
    for model in MODELS:
        project.make("train", FAST, f"MODEL_TYPE={model}", f"RUN_NAME=amd64-{model}")
        project.make("train", *ARM64, FAST, f"MODEL_TYPE={model}", f"RUN_NAME=arm64-{model}")
    manifests = project.path.glob("outputs/*/manifest.json")
    return {path.parent.name: json.loads(path.read_text()) for path in manifests}


def test_the_arm64_image_is_built_for_arm64_and_runs_there(project, runs):
    tags = project.docker("image", "ls", "--format", "{{.Tag}}", PROJECT).stdout.split()
    [arm64_tag] = [tag for tag in tags if tag.endswith("-linux-arm64")]
    assert project.inspect("{{.Architecture}}", f"{PROJECT}:{arm64_tag}") == "arm64"
    for model in MODELS:
        assert runs[f"amd64-{model}"]["machine"] == "x86_64"
        assert runs[f"arm64-{model}"]["machine"] == "aarch64"
        assert runs[f"arm64-{model}"]["image"]["tag"] == f"{PROJECT}:{arm64_tag}"


def test_arm64_gives_amd64s_predictions_and_the_documented_model_hashes(project, runs):
    documented = documented_results(project.path)
    assert set(documented) == set(MODELS)
    for model in MODELS:
        amd64, arm64 = runs[f"amd64-{model}"]["result"], runs[f"arm64-{model}"]["result"]
        # the same metrics and predictions
        assert amd64["fingerprint"] == arm64["fingerprint"], model
        measured = (
            amd64["fingerprint"] == arm64["fingerprint"],
            amd64["model_sha256"] == arm64["model_sha256"],
        )
        assert measured == documented[model], (
            f"{model}: docs/reproducibility.md no longer tells what arm64 gives"
        )


def test_reproduce_on_arm64_reports_the_architecture_as_drift_not_a_failure(project, runs):
    [model, *_] = [
        model
        for model, (_, same_model) in documented_results(project.path).items()
        if not same_model
    ]
    result = project.make("reproduce", *ARM64, f"RUN=amd64-{model}")
    assert f"OK: run amd64-{model} reproduced: same predictions, different weights" in result.stdout
    assert "  machine: x86_64 -> aarch64" in result.stderr
    assert "FAILED" not in result.stdout + result.stderr


def test_amd64_and_arm64_install_the_same_lock(runs):
    """One requirements.txt serves both: each platform's image has its every package,
    at one version."""
    for model in MODELS:
        amd64, arm64 = runs[f"amd64-{model}"], runs[f"arm64-{model}"]
        assert amd64["lock"] is not None and amd64["lock"] == arm64["lock"]
        assert amd64["packages"] == arm64["packages"]
