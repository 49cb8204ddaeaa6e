"""Lay out the chosen framework, remove what the options turn off, optionally start git, say what
next."""

import json
import os
import shutil
import subprocess
from pathlib import Path

from cookiecutter.config import BUILTIN_ABBREVIATIONS
from cookiecutter.repository import expand_abbreviations

# tojson escapes every quote, so no answer can end this raw string early or inject code.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
PROJECT = Path.cwd()
# cruft adds the template's commit to the answers; plain cookiecutter does not.
UNDER_CRUFT = "_commit" in ANSWERS

# Files that belong to an option, removed when the option is off.
OPTIONAL_PATHS = {
    "include_github_actions": [".github/workflows/ci.yml"],
}
# Lines of shared files that belong to an option, removed when the option is off.
OPTIONAL_LINES = {
    "include_lab_tools": {".gitignore": ["sweeps/"], ".dockerignore": ["sweeps/"]},
    "include_notebooks": {
        ".gitignore": [".ipynb_checkpoints/"],
        ".dockerignore": [".ipynb_checkpoints/"],
    },
}
# Folders laid out like the project root, whose files replace or join the project's when their
# option is on.
OVERLAYS = {
    "_pytorch": ("framework", "pytorch"),
    "_lab": ("include_lab_tools", "yes"),
    "_classroom": ("include_classroom", "yes"),
    "_notebooks": ("include_notebooks", "yes"),
}


def remove(relative_path: str) -> None:
    path = PROJECT / relative_path
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    # A folder that this leaves empty goes too, such as .github without any workflow.
    for parent in path.parents:
        if parent == PROJECT or not parent.is_dir() or any(parent.iterdir()):
            break
        parent.rmdir()


def remove_unused_options() -> None:
    for option, paths in OPTIONAL_PATHS.items():
        if ANSWERS[option] == "no":
            for relative_path in paths:
                remove(relative_path)
    for option, files in OPTIONAL_LINES.items():
        if ANSWERS[option] == "no":
            for name, unused in files.items():
                lines = (PROJECT / name).read_text().splitlines(keepends=True)
                (PROJECT / name).write_text(
                    "".join(line for line in lines if line.strip() not in unused)
                )


def apply_overlays() -> None:
    for folder, (option, value) in OVERLAYS.items():
        overlay = PROJECT / folder
        if ANSWERS[option] == value:
            for source in sorted(overlay.rglob("*")):
                if source.is_file():
                    target = PROJECT / source.relative_to(overlay)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source.replace(target)
        shutil.rmtree(overlay)


def template_dir() -> Path | None:
    """The template's folder. A relative _repo_dir (`cookiecutter .`) is relative to where
    cookiecutter started, while this hook runs in the new project: the shell's PWD still names that
    place, and on Linux so does the cwd of cookiecutter itself, which runs hooks from inside the
    template."""
    repo_dir = Path(ANSWERS["_repo_dir"])
    places = (
        [repo_dir]
        if repo_dir.is_absolute()
        else [Path(os.environ.get("PWD", "/nonexistent")) / repo_dir]
    )
    places.append(Path(f"/proc/{os.getppid()}/cwd"))
    return next(
        (place.resolve() for place in places if (place / "cookiecutter.json").is_file()), None
    )


def template_commit(folder: Path) -> str:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def record_template() -> None:
    """Write .cruft.json, so that `cruft check` and `cruft update` can bring the template's later
    fixes."""
    folder = template_dir()
    commit = template_commit(folder) if folder else ""
    if not commit:
        return  # not made from a git checkout: there is nothing to update from
    template = ANSWERS["_template"]
    # cruft needs a URL or an absolute path where cookiecutter also takes gh: shorthands and
    # relative paths.
    expanded = expand_abbreviations(template, BUILTIN_ABBREVIATIONS)
    remote = expanded != template or "://" in template or template.startswith("git@")
    template = expanded if remote else str(folder)
    context = {
        key: value for key, value in ANSWERS.items() if key not in ("_output_dir", "_repo_dir")
    }
    context.update(_template=template, _commit=commit)
    record = {
        "template": template,
        "commit": commit,
        "checkout": ANSWERS.get("_checkout"),
        "context": {"cookiecutter": context},
        "directory": None,
    }
    (PROJECT / ".cruft.json").write_text(json.dumps(record, indent=2) + "\n")


def init_git() -> bool:
    if ANSWERS["init_git"] != "yes" or shutil.which("git") is None:
        return False
    # Name the author explicitly, so the first commit works where git has no identity yet.
    identity = [
        "-c",
        f"user.name={ANSWERS['author_name']}",
        "-c",
        f"user.email={ANSWERS['author_email']}",
    ]
    for command in (
        ["git", "init", "--quiet", "--initial-branch=main"],
        ["git", "add", "--all"],
        ["git", *identity, "commit", "--quiet", "--no-verify", "-m", "Start from repro-template"],
    ):
        subprocess.run(command, cwd=PROJECT, check=True)
    return True


def print_next_steps(git_started: bool) -> None:
    print(f"\nCreated {PROJECT}" + (" with a first git commit." if git_started else "."))
    print("Next:")
    print(f"  cd {PROJECT.name}")
    print("  make image      # build the Docker image (again only when dependencies change)")
    print("  make train      # a seeded, tracked training run in the container")
    dashboard = "http://127.0.0.1:" + ANSWERS["dashboard_port"]
    print("  make dashboard  # the TrackIO dashboard on " + dashboard)
    if ANSWERS["include_notebooks"] == "yes":
        print("  make notebook   # JupyterLab in the project's image, on http://127.0.0.1:8888")
    print("  make help       # everything else")


def main() -> None:
    apply_overlays()
    remove_unused_options()
    if UNDER_CRUFT:
        return  # cruft records the template itself, and regenerates projects only to compare them
    record_template()
    print_next_steps(init_git())


if __name__ == "__main__":
    main()
