"""What the notebook tools cost, side by side with their yardsticks, in one run on one engine.

Bakes a project with include_notebooks=yes, builds its image, then measures:
- the image sizes: the training image, and the notebook image built on it;
- after an edit of requirements.txt: the training image's rebuild, then the notebook image's
  rebuild on it (uv's download cache as the machine has it);
- `make notebook`'s time to its first answer (/api/status), beside `make dashboard`'s (its first
  page);
- `make verify-notebooks` on the starter notebook, beside `make verify` (two training runs).
Writes a markdown table, with the machine's facts, to benchmarks/NOTEBOOKS.md. Needs make and
Docker.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from run import machine_facts, markdown_table
from waits import bake, timed

REPO = Path(__file__).resolve().parents[1]
DOCKER = os.environ.get("DOCKER") or (
    "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
)


def size_mb(image: str) -> int:
    found = subprocess.run(
        [DOCKER, "image", "inspect", "--format", "{{.Size}}", image], capture_output=True
    )
    return int(found.stdout) // 1_000_000


def first_answer(project: Path, env: dict, target: str, url: str, port: int) -> float:
    """Seconds from `make <target>` to the server's first HTTP answer; then stops it."""
    start = time.perf_counter()
    server = subprocess.Popen(
        ["make", target, f"PORT={port}"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    token = ""
    for line in server.stdout if target == "notebook" else []:
        found = re.search(r"token=([0-9a-f]+)", line)
        if found:
            token = found.group(1)
            break
    while server.poll() is None:
        try:
            with urllib.request.urlopen(url.format(port=port, token=token), timeout=5):
                break
        except OSError:
            time.sleep(0.1)
    seconds = time.perf_counter() - start
    if server.poll() is not None:
        sys.exit(f"make {target} stopped before it answered")
    name = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"][
        "project_slug"
    ]
    subprocess.run([DOCKER, "stop", "--time", "5", f"{name}-{target}"], capture_output=True)
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=18890, help="a free port on 127.0.0.1 for the servers"
    )
    port = parser.parse_args().port
    env = {**os.environ, "DOCKER": DOCKER}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as workdir:
        project = bake(
            REPO, Path(workdir), project_name=f"bench nb {os.getpid()}", include_notebooks="yes"
        )
        timed(["make", "image"], project, env)
        rows = []
        try:
            # A requirements edit rebuilds the training image's dependency layer; the notebook
            # image, on top of a new training image, then rebuilds its own install. (No --no-cache:
            # beside another build, Docker 20.10's BuildKit can crash the engine;
            # benchmarks/README.md.)
            with (project / "requirements.txt").open("a") as requirements:
                requirements.write("# edited\n")
            training_build = timed(["make", "image"], project, env)
            notebook_build = timed(["make", "notebook-image"], project, env)
            [stamp] = (project / ".make").glob("image-*")
            image = f"{project.name}:{stamp.name.removeprefix('image-')}"
            rows.append(
                ["image size", f"{size_mb(image)} MB", f"{size_mb(project.name + ':notebook')} MB"]
            )
            rows.append(
                [
                    "rebuild after a requirements.txt edit",
                    f"{training_build:.1f} s",
                    f"{notebook_build:.1f} s",
                ]
            )
            dashboard = first_answer(project, env, "dashboard", "http://127.0.0.1:{port}/", port)
            lab = first_answer(
                project, env, "notebook", "http://127.0.0.1:{port}/api/status?token={token}", port
            )
            rows.append(["time to first answer", f"{dashboard:.1f} s", f"{lab:.1f} s"])
            verify = timed(["make", "verify"], project, env)
            notebooks = timed(["make", "verify-notebooks"], project, env)
            rows.append(
                [
                    "check (`make verify` / `make verify-notebooks`)",
                    f"{verify:.1f} s",
                    f"{notebooks:.1f} s",
                ]
            )
        finally:
            subprocess.run(["make", "clean"], cwd=project, env=env, capture_output=True)
    facts = machine_facts(DOCKER, 1, load_before, os.getloadavg()[0])
    table = markdown_table(
        ["measure", "yardstick: training image, `make dashboard`, `make verify`", "notebooks"], rows
    )
    text = "\n".join(
        [
            "# What the notebook tools cost",
            "",
            "Written by `benchmarks/notebooks.py`.",
            "",
            *facts,
            "",
            table,
            "",
        ]
    )
    (REPO / "benchmarks" / "NOTEBOOKS.md").write_text(text)
    print(table)


if __name__ == "__main__":
    sys.exit(main())
