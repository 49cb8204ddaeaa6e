"""Remove what the chosen options turn off, optionally start a git repository, say what to do next."""

import json
import shutil
import subprocess
from pathlib import Path

# tojson escapes every quote, so no answer can end this raw string early or inject code.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
PROJECT = Path.cwd()

# Files that belong to an option, removed when the option is off.
OPTIONAL_PATHS = {
    "include_github_actions": [".github"],
}


def remove(relative_path: str) -> None:
    path = PROJECT / relative_path
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def remove_unused_options() -> None:
    for option, paths in OPTIONAL_PATHS.items():
        if ANSWERS[option] == "no":
            for relative_path in paths:
                remove(relative_path)


def init_git() -> bool:
    if ANSWERS["init_git"] != "yes" or shutil.which("git") is None:
        return False
    # Name the author explicitly, so the first commit works where git has no identity yet.
    identity = ["-c", f"user.name={ANSWERS['author_name']}", "-c", f"user.email={ANSWERS['author_email']}"]
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
    print("  make dashboard  # the TrackIO dashboard on http://127.0.0.1:" + ANSWERS["dashboard_port"])
    print("  make help       # everything else")


def main() -> None:
    remove_unused_options()
    print_next_steps(init_git())


if __name__ == "__main__":
    main()
