"""The generated project on a real Docker engine: image cache, training,
dashboard in a real browser."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import urllib.request

import pytest
from baked import HARDENED, NON_ROOT_UID, Project, built, confinement, errors, homed, tracked_runs
from conftest import REPO, bake, free_port, taken_port

pytestmark = pytest.mark.docker

# a name of its own: the tests remove this project's images, and no one else's
PROJECT = "repro_e2e"
SCREENSHOT = REPO / "build" / "dashboard.png"
DOCS_DOCKER = (REPO / "{{cookiecutter.project_slug}}" / "docs" / "docker.md").read_text()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = bake(tmp_path_factory.mktemp("e2e"), project_name="Repro E2E", init_git="yes")
    # Things that must never reach the image.
    (path / ".env").write_text("SECRET=do-not-ship\n")
    (path / "outputs" / "old-run").mkdir(parents=True)
    (path / "outputs" / "old-run" / "metrics.json").write_text("{}")
    project = Project(path)
    assert built(project.make("image"))
    project.commit_base_pin()
    yield project
    project.make("clean", check=False)


def test_second_make_image_runs_no_build(project):
    result = project.make("image")
    assert not built(result)
    assert "is up to date" in result.stdout


def test_container_runs_as_non_root_and_keeps_secrets_and_outputs_out(project):
    assert project.docker("run", "--rm", project.image(), "id", "-u").stdout.strip() == "1000"
    listing = project.docker("run", "--rm", project.image(), "ls", "-a", "/app").stdout.split()
    assert "train.py" in listing
    assert not {".env", ".git", "outputs", ".trackio", ".make"} & set(listing)


def test_code_edit_needs_no_rebuild_and_takes_effect(project):
    main = "def main() -> None:\n"
    edited = project.read("train.py").replace(main, f'{main}    print("EDITED")\n')
    with project.edited("train.py", edited):
        assert not built(project.make("image"))
        result = project.make("train", "N_ESTIMATORS=10")
    assert not built(result)
    assert "EDITED" in result.stdout


def test_training_twice_gives_the_same_results_on_the_host(project):
    printed = [project.make("train").stdout for _ in range(2)]
    first, second = project.runs()[-2:]
    # The run names what works from the project folder: its outputs, and the dashboard's command.
    assert f"Outputs in outputs/{second.name}/, fingerprint " in printed[1]
    assert "trackio show" not in printed[1] and printed[1].count("make dashboard") == 1
    for name in ("metrics.json", "predictions.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    results = [project.manifest(run.name)["result"] for run in (first, second)]
    assert results[0]["model_sha256"] == results[1]["model_sha256"]
    for path in [first, *first.iterdir(), project.path / ".trackio" / f"{PROJECT}.db"]:
        assert path.stat().st_uid == os.getuid(), path


def test_manifest_names_the_commit_and_the_image(project):
    manifest = project.manifest()
    # The committed code without results/,
    # so that a commit which only hands a run in keeps the same tree.
    tree = "".join(
        f"{line}\n"
        for line in project.git("ls-tree", "HEAD").splitlines()
        if line.split("\t")[1] != "results"
    )
    assert manifest["code"] == {
        "git_commit": project.git("rev-parse", "HEAD").strip(),
        "dirty": False,
        "diff_sha256": None,
        "tree": hashlib.sha256(tree.encode()).hexdigest(),
    }
    image_id = project.inspect("{{.Id}}", project.image())
    [pin] = project.read("base-image.lock").splitlines()[1:]
    image = {"local": False, "tag": project.image(), "id": image_id, "digest": None}  # never pushed
    assert manifest["image"] == image | {"base": "python:3.11-slim", "base_id": pin.split()[-1]}
    assert (
        manifest["lock"]
        == hashlib.sha256((project.path / "requirements.txt").read_bytes()).hexdigest()
    )
    assert project.image().endswith(
        f"-linux-{manifest['machine'].replace('x86_64', 'amd64').replace('aarch64', 'arm64')}"
    )
    assert manifest["python"].startswith("3.11")


def test_manifest_marks_uncommitted_changes(project):
    with project.edited("README.md", project.read("README.md") + "\nA local note.\n"):
        project.make("train", "N_ESTIMATORS=10")
        diff = project.git("diff", "HEAD")
    code = project.manifest()["code"]
    assert code["dirty"] is True
    assert code["diff_sha256"] == hashlib.sha256(diff.encode()).hexdigest()


def test_make_verify_and_reproduce_pass_in_the_container(project):
    result = project.make("verify", "N_ESTIMATORS=10")
    assert "OK: two fresh runs of the same config reproduced" in result.stdout
    run = project.runs()[-1].name
    assert f"OK: run {run} reproduced" in project.make("reproduce", f"RUN={run}").stdout


@pytest.mark.parametrize(
    ("data", "target", "task"),
    [
        (
            "island,bill_mm,species\n"
            + "".join(f"{'ab'[i % 2]},{i % 7 or ''},{'xy'[i % 2]}\n" for i in range(60)),
            "species",
            "classification",
        ),
        (
            "x;group;weight\n"
            + "".join(f"{i % 9};{'ab'[i % 2]};{i % 9 * 2},{i % 3}\n" for i in range(60)),
            "weight",
            "regression",
        ),
    ],
    ids=["text-and-empty-cells", "semicolons-and-a-numeric-target"],
)
def test_your_own_csv_trains_and_verifies_in_the_container(project, data, target, task):
    (project.path / "data" / f"{task}.csv").write_text(data)
    settings = [f"DATA=data/{task}.csv", f"TARGET={target}", "N_ESTIMATORS=10"]
    assert f"{task} (" in project.make("train", *settings).stdout
    assert project.manifest()["data"]["task"] == task
    assert "reproduced bit-identical" in project.make("verify", *settings).stdout


def test_a_run_killed_for_memory_says_so(project):
    [error] = errors(project.fails("train", "MEMORY=8m").stderr)
    assert error.startswith(
        "error: the run was killed (exit 137): unless you killed it,"
        " it ran out of memory: raise MEMORY="
    )


def test_the_image_holds_no_secret_no_history_and_no_results(project, tmp_path):
    """Every layer of the saved image: no .env, no .git, no outputs,
    and not the secret's text anywhere."""
    saved = tmp_path / "image.tar"
    assert project.docker("save", "--output", str(saved), project.image()).returncode == 0
    with tarfile.open(saved) as image:
        layers = [member for member in image.getmembers() if member.name.endswith("layer.tar")]
        assert layers
        for member in layers:
            with tarfile.open(fileobj=image.extractfile(member)) as layer:
                for entry in layer.getmembers():
                    name = "/" + entry.name
                    assert not name.startswith(
                        ("/app/.env", "/app/.git/", "/app/outputs/", "/app/.trackio/")
                    ), name
                    if entry.isfile() and entry.name.startswith("app/"):
                        assert b"do-not-ship" not in layer.extractfile(entry).read(), name


def test_model_type_switches_without_rebuild(project):
    assert not built(project.make("train", "MODEL_TYPE=svm"))
    assert project.runs()[-1].name.startswith("svm-seed42-")


def test_a_bad_setting_fails_in_the_container_with_one_line(project):
    result = project.fails("train", "N_ESTIMATORS=-3")
    assert errors(result.stderr) == ["error: N_ESTIMATORS must be 1 or more, got -3"]


def test_requirements_edit_rebuilds_on_top_of_the_cached_base(project):
    def layers(image: str) -> list[str]:
        return json.loads(project.inspect("{{json .RootFS.Layers}}", image))

    old_layers = layers(project.image())
    project.edit("requirements.in", project.read("requirements.in") + "six==1.17.0\n")
    result = project.make("image", "BUILD_FLAGS=--progress=plain")
    assert built(result)
    new_layers, base_layers = layers(project.image()), layers("python:3.11-slim")
    assert new_layers[: len(base_layers)] == old_layers[: len(base_layers)] == base_layers
    assert "load build context" in result.stderr and " CACHED" in result.stderr
    imported = project.docker(
        "run", "--rm", project.image(), "python", "-c", "import six; print(six.__version__)"
    )
    assert imported.stdout.strip() == "1.17.0"


def test_pip_installs_the_same_environment_as_uv(project):
    project.make("train", "N_ESTIMATORS=10")
    with_uv = project.manifest()
    dockerfile = project.read("Dockerfile")
    # The recipe of docs/docker.md: pip's install step instead of uv's, and no uv stage.
    recipe = re.search(
        r"^RUN --mount=type=cache,target=/root/.cache/pip.*?requirements.txt$",
        DOCS_DOCKER,
        re.M | re.S,
    )
    with_pip = re.sub(
        r"^RUN --mount=type=cache,target=/root/.cache/uv.*?VIRTUAL_ENV\"$",
        recipe.group(),
        dockerfile,
        flags=re.M | re.S,
    )
    with_pip = re.sub(r"^FROM \$\{BASE_IMAGE\} AS uv\nRUN .*?\n", "", with_pip, flags=re.M)
    assert " AS uv" not in with_pip and "/uv/bin/uv" not in with_pip
    assert "pip install --require-hashes --no-deps -r" in with_pip
    with project.edited("Dockerfile", with_pip):
        assert built(project.make("image"))
        project.make("train", "N_ESTIMATORS=10")
    with_pip = project.manifest()
    assert with_pip["image"]["id"] != with_uv["image"]["id"]
    source = project.read("requirements.in").split()
    pins = dict(line.split("==") for line in source if "==" in line)
    assert all(with_pip["packages"][name] == version for name, version in pins.items())
    assert with_pip["result"]["fingerprint"] == with_uv["result"]["fingerprint"]
    assert not built(project.make("image"))  # the restored files' image is still here


def test_make_test_runs_the_projects_own_tests_in_the_container(project):
    result = project.make("test")
    assert not built(result)
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_a_deleted_image_is_rebuilt(project):
    assert project.docker("image", "rm", project.image()).returncode == 0
    assert built(project.make("image"))
    assert project.docker("image", "inspect", project.image()).returncode == 0


def test_a_failing_build_says_why_and_leaves_no_stamp(project):
    failing = "RUN no-such-command-here && useradd"
    with project.edited("Dockerfile", project.read("Dockerfile").replace("RUN useradd", failing)):
        result = project.fails("image")
        assert not list((project.path / ".make").glob("image-*"))
    assert "no-such-command-here: not found" in result.stderr
    assert not built(project.make("image"))  # the restored files' image is still here


def test_an_interrupted_build_leaves_no_stamp(project):
    with project.edited("requirements.txt", project.read("requirements.txt") + "# interrupted\n"):
        make = project.start("image", stderr=None)
        for line in make.stdout:
            if line.startswith(f"Building {PROJECT}:"):
                break
        time.sleep(1)
        os.killpg(make.pid, signal.SIGINT)
        assert make.wait(timeout=60) != 0
        assert not list((project.path / ".make").glob("image-*"))
    assert not built(project.make("image"))  # the restored files' image is still here


def test_a_file_excluded_by_dockerignore_gets_a_clear_message(project):
    (project.path / "data" / "extra.csv").write_text("a,b\n1,2\n")
    copy = "COPY --chown"
    extra = project.read("Dockerfile").replace(copy, f"COPY data/extra.csv /tmp/\n{copy}", 1)
    with project.edited("Dockerfile", extra):
        result = project.fails("image")
    [explained] = errors(result.stderr)
    assert explained.startswith(
        "error: A file that the Dockerfile copies is not in the build context"
    )
    assert ".dockerignore" in explained
    assert not list((project.path / ".make").glob("image-*"))
    assert not built(project.make("image"))  # the restored files' image is still here


def test_an_image_over_its_budget_is_reported(project):
    with project.edited("Dockerfile", project.read("Dockerfile") + "# over budget\n"):
        result = project.make("image", "IMAGE_MAX_MB=10")
    size_mb = int(project.inspect("{{.Size}}", project.image())) // 1_000_000
    assert f"Image {project.image()}: {size_mb} MB" in result.stdout
    assert "over its budget of 10 MB" in result.stderr
    assert not built(project.make("image"))  # the restored files' image is still here


def test_a_stopped_daemon_gets_a_clear_message(project):
    result = project.fails("image", DOCKER_HOST="unix:///tmp/no-docker-here.sock")
    assert "error: Docker is not running" in result.stderr


def test_files_written_by_a_non_root_user_belong_to_that_user():
    if os.getuid() != 0:
        pytest.skip("the suite already runs as a non-root user")
    with homed(NON_ROOT_UID) as project:
        project.make("train", "N_ESTIMATORS=10")
        [run] = project.runs()
        written = [run, *run.iterdir(), *(project.path / ".trackio").rglob("*")]
        assert {path.stat().st_uid for path in written} == {NON_ROOT_UID}


def wait_for_http(url: str, seconds: float = 90) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {seconds} s")


def chromium(*args: str) -> subprocess.CompletedProcess:
    found = (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))
    browser = next(filter(None, found), None)
    if browser is None:  # outside CI only: there, a skip fails the run (conftest.py)
        pytest.skip("chromium is not installed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1400,900",
                "--virtual-time-budget=10000",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )


def test_dashboard_on_localhost_lists_the_runs_in_a_real_browser(project):
    port = free_port()
    container = f"{PROJECT}-dashboard"
    dashboard = project.start("dashboard", f"PORT={port}")
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for_http(base + "/") == 200
        assert {run.name for run in project.runs()} <= tracked_runs(base, PROJECT)

        published = project.docker("port", container).stdout.strip().splitlines()
        assert published == [f"7860/tcp -> 127.0.0.1:{port}"]
        # Hardened as every container that make starts: no capabilities, no new privileges,
        # a read-only image.
        assert confinement(container) == HARDENED

        page = f"{base}/?project={PROJECT}"
        dom = chromium("--dump-dom", page)
        assert project.runs()[-1].name in dom.stdout
        # The first screen shows the learning curves; the final numbers are in the run's tables,
        # not charts.
        sections = re.findall(r'class="accordion-label[^"]*"[^>]*>([a-z_]+) \(', dom.stdout)
        assert sections[:2] == ["test", "train"] and "final" not in sections, sections
        SCREENSHOT.parent.mkdir(exist_ok=True)
        SCREENSHOT.unlink(missing_ok=True)
        chromium(f"--screenshot={SCREENSHOT}", page)
        assert SCREENSHOT.stat().st_size > 20_000
    finally:
        project.docker("stop", "--time", "5", container)
        output, _ = dashboard.communicate(timeout=60)
    assert f"Dashboard of project {PROJECT}: http://127.0.0.1:{port}/?project={PROJECT}" in output
    assert project.docker("ps", "--quiet", "--filter", f"name={container}").stdout.strip() == ""


def test_a_taken_port_fails_fast_and_names_port(project):
    with taken_port() as port:
        started = time.monotonic()
        result = project.fails("dashboard", f"PORT={port}", timeout=60)
    assert time.monotonic() - started < 30
    assert f"Port {port} is already in use" in result.stderr and "PORT=" in result.stderr
