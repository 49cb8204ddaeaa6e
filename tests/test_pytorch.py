"""The pytorch variant: what it bakes, that it lints clean, that its GPU switch fails clearly, and
that its own tests pass in a virtualenv with a CPU build of torch."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from baked import captured, fake_project
from conftest import REPO, bake
from test_bake import DEFAULT_FILES, project_files

TEMPLATE = REPO / "{{cookiecutter.project_slug}}"
TORCH_PIN = "torch==2.13.0"
PYTORCH_ONLY_FILES = {"docs/gpu.md", "gpu.mk", "tests/test_determinism.py"}
# The README points to the PyTorch variant; the Dockerfile says which CUDA setting it makes.
MAY_MENTION_TORCH = {"README.md", "Dockerfile", ".cruft.json"}
# Kept between test sessions, because installing torch takes a minute; remade when the pins change.
TORCH_VENV = REPO / "build" / "torch-venv"


def pins(requirements: Path) -> set[str]:
    lines = (line.strip() for line in requirements.read_text().splitlines())
    return {line for line in lines if line and not line.startswith("#")}


@pytest.fixture(scope="module")
def pytorch_project(tmp_path_factory) -> Path:
    return bake(tmp_path_factory.mktemp("pytorch"), framework="pytorch")


# Pins, docs and the words a bake may hold are text: reading them is their test. What the code does
# is tested by running it (the project's own tests, with torch, below).
def test_both_frameworks_pin_the_same_shared_packages():
    scikit_learn = pins(TEMPLATE / "requirements.in")
    assert pins(TEMPLATE / "_pytorch" / "requirements.in") == scikit_learn | {TORCH_PIN}


def test_pytorch_files_replace_and_join_the_project_files(pytorch_project):
    assert project_files(pytorch_project) == DEFAULT_FILES | PYTORCH_ONLY_FILES
    assert "import torch" in (pytorch_project / "train.py").read_text()
    assert TORCH_PIN in pins(pytorch_project / "requirements.in")
    assert TORCH_PIN in (pytorch_project / "requirements.txt").read_text()  # the lock has it too
    readme = (pytorch_project / "README.md").read_text()
    assert "make train EPOCHS=" in readme and "docs/gpu.md" in readme and "MODEL_TYPE" not in readme
    gpu = (pytorch_project / "docs" / "gpu.md").read_text()
    assert "make lock EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu" in gpu


def test_a_scikit_learn_project_has_no_torch(tmp_path):
    project = bake(tmp_path)
    assert "torch" not in (project / "requirements.txt").read_text()
    for name in project_files(project) - MAY_MENTION_TORCH:
        assert "torch" not in (project / name).read_text().lower(), name


def test_train_passes_the_torch_settings_into_the_container(tmp_path):
    project = fake_project(tmp_path, framework="pytorch")
    assert project.make("train", "EPOCHS=3", "DETERMINISM=warn", "DEVICE=cpu").returncode == 0
    [run] = project.calls("run")
    for name in ("EPOCHS", "DETERMINISM", "DEVICE"):
        assert f"-e {name} " in run, name
    assert "-e MODEL_TYPE" not in run


@pytest.fixture(scope="session")
def torch_python(tmp_path_factory) -> Path:
    """The python of a virtualenv with a CPU build of torch and the pytorch project's pins."""
    requirements = bake(tmp_path_factory.mktemp("pins"), framework="pytorch") / "requirements.in"
    python = TORCH_VENV / "bin" / "python"
    installed = TORCH_VENV / "installed-requirements.txt"
    if installed.exists() and installed.read_text() == requirements.read_text():
        return python
    shutil.rmtree(TORCH_VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(TORCH_VENV)], check=True)
    # The +cpu pin takes only a CPU build: plain torch from PyPI is the CUDA build,
    # with several GB of nvidia wheels.
    pip = [python, "-m", "pip", "install", "--quiet"]
    result = captured([*pip, f"{TORCH_PIN}+cpu", "-r", str(requirements)])
    if result.returncode != 0:  # outside CI only: there, a skip fails the run (conftest.py)
        pytest.skip(
            f"cannot install a CPU build of {TORCH_PIN}:"
            " give pip its wheel (pip config find-links)"
            " or PyTorch's CPU index (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu)"
            f"\n{result.stderr[-3000:]}"
        )
    shutil.copy(requirements, installed)
    return python


@pytest.mark.slow
def test_pytorch_projects_own_tests_pass_with_torch(pytorch_project, torch_python):
    pytest_command = [torch_python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = captured(pytest_command, cwd=pytorch_project, timeout=1800)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
    skipped = re.findall(r"^SKIPPED .*$", result.stdout, flags=re.MULTILINE)
    # only the CUDA tests
    assert all("no GPU here" in line for line in skipped) and len(skipped) == 2, skipped


# The notebook tools, at their locked versions: requirements-notebook.txt pins them with hashes.
NOTEBOOK_TOOLS = ["nbclient==0.11.0", "nbformat==5.11.1", "ipykernel==7.4.0"]


@pytest.mark.slow
def test_the_pytorch_starter_notebook_reproduces_on_the_cpu(tmp_path, torch_python):
    """The PyTorch project's starter notebook, run twice by make verify-notebooks' own script in
    fresh kernels, with a CPU build of torch: the same outputs. (Its image, with torch's CUDA
    build from PyPI, is several GB: this runs in the CPU virtualenv instead.)"""
    project = bake(tmp_path, framework="pytorch", include_notebooks="yes")
    installed = captured([torch_python, "-m", "pip", "install", "--quiet", *NOTEBOOK_TOOLS])
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {**os.environ, "PYTHONHASHSEED": "0", "EPOCHS": "3"}
    verify = [torch_python, "scripts/verify_notebooks.py", "notebooks"]
    checked = captured(verify, cwd=project, env=env, timeout=1200)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
