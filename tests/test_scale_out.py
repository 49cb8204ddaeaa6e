"""From laptop to cluster on real engines:
a registry on 127.0.0.1:5000 and a shared TrackIO server."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from baked import (
    CURVE_STEPS,
    HARDENED,
    Project,
    captured,
    confinement,
    curve_steps,
    errors,
    logged,
    post_json,
    read_store,
    tracked_runs,
)
from conftest import DOCKER, bake, free_port, training_container
from test_arm64 import ARM64_BASE, arm64_missing, image_here

pytestmark = pytest.mark.docker

PROJECT = "scale_out"  # its own image name, so that deleting the image touches no other test's
REGISTRY_ADDRESS = "127.0.0.1:5000"
# A path of its own in the shared registry, so that runs of this suite never see each other's tags.
REGISTRY = f"{REGISTRY_ADDRESS}/repro-test-{os.getpid()}"
FAST = "N_ESTIMATORS=10"


def training_confinement(project: Path) -> dict:
    """The confinement of a container that runs train.py in project (the next, if one ended)."""
    found = None
    while found is None:
        found = confinement(training_container(project))
    return found


def built(result: subprocess.CompletedProcess) -> bool:
    return f"Building {PROJECT}:" in result.stdout


def registry_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://{REGISTRY_ADDRESS}/v2/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = bake(
        tmp_path_factory.mktemp("scale-out"),
        project_name="Scale Out",
        include_lab_tools="yes",
        init_git="yes",
    )
    project = Project(path)
    project.make("image")
    yield project
    project.docker("stop", "--time", "5", f"{PROJECT}-tracking")
    project.docker("network", "rm", f"{PROJECT}-tracking")
    project.make("clean", check=False)


@pytest.fixture(scope="module")
def registry():
    if not registry_answers():
        pytest.skip(
            f"no registry answers on {REGISTRY_ADDRESS}: run `sudo scripts/provision-registry.sh`"
        )
    return REGISTRY


def test_push_without_a_registry_says_what_to_name_and_builds_nothing(project):
    result = project.fails("push")
    assert errors(result.stderr) == [
        "error: name a registry, e.g. make push REGISTRY=registry.example.org:5000/my-lab "
        "(host:port, then an optional path)"
    ]
    assert not built(result)


def test_a_registry_given_as_a_url_is_refused(project):
    result = project.fails("push", "REGISTRY=http://127.0.0.1:5000")
    assert "error: REGISTRY is host:port[/path], without http:// or https://" in result.stderr


MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def registry_manifest(path: str, reference: str, media_type: str) -> tuple[str, dict]:
    """The digest and content of what the registry serves as path:reference."""
    request = urllib.request.Request(
        f"http://{REGISTRY_ADDRESS}/v2/{path}/manifests/{reference}", headers={"Accept": media_type}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"], json.load(response)


def delete_manifest(path: str, digest: str) -> None:
    request = urllib.request.Request(
        f"http://{REGISTRY_ADDRESS}/v2/{path}/manifests/{digest}", method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def registry_tags(path: str) -> set[str]:
    listed = f"http://{REGISTRY_ADDRESS}/v2/{path}/tags/list"
    with urllib.request.urlopen(listed, timeout=10) as response:
        return set(json.load(response)["tags"] or [])


def delete_every_tag(path: str) -> None:
    """Leave the shared registry without what a test pushed to path:
    every manifest that a tag names."""
    media_types = f"{MANIFEST_LIST}, {MANIFEST}"
    for digest in {registry_manifest(path, tag, media_types)[0] for tag in registry_tags(path)}:
        delete_manifest(path, digest)


def docker_ok(*args: str) -> None:
    result = captured([DOCKER, *args], timeout=600)
    assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def two_platform_base(registry):
    """python:3.11-slim for linux/amd64 and linux/arm64 under one name, as Docker Hub serves it:
    both platforms build on the same BASE_IMAGE, so their images share one content hash. Here it is
    made from the stand-ins."""
    reason = arm64_missing()
    if reason:
        pytest.skip(reason)
    if not image_here("python:3.11-slim", "linux/amd64"):
        pytest.skip("no python:3.11-slim for linux/amd64: run `sudo scripts/make-base-image.sh`")
    base = f"{registry}/python:3.11-slim"
    platform_tags = [f"{base}-linux-amd64", f"{base}-linux-arm64"]
    for local, tag in zip(("python:3.11-slim", ARM64_BASE), platform_tags, strict=True):
        docker_ok("tag", local, tag)
        docker_ok("push", tag)
    docker_ok("manifest", "create", "--insecure", base, *platform_tags)
    docker_ok("manifest", "push", "--insecure", "--purge", base)
    yield base
    delete_every_tag(base.removeprefix(f"{REGISTRY_ADDRESS}/").split(":")[0])
    for tag in platform_tags:
        subprocess.run([DOCKER, "image", "rm", tag], capture_output=True)


@pytest.fixture
def remote(registry):
    """The project's image in the registry, whose every tag goes after the test."""
    yield f"{registry}/{PROJECT}"
    delete_every_tag(f"{registry}/{PROJECT}".removeprefix(f"{REGISTRY_ADDRESS}/"))


def test_push_publishes_one_image_for_both_platforms_and_pull_brings_back_this_ones(
    project, registry, two_platform_base, remote, monkeypatch
):
    monkeypatch.setitem(project.env, "BASE_IMAGE", two_platform_base)  # read by make as a setting
    project.make("train", FAST, "RUN_NAME=before-push")
    assert project.manifest("before-push")["image"]["digest"] is None
    image = project.image()
    image_id = project.inspect("{{.Id}}", image)
    content_hash, local_platform = image.split(":")[1].split("-", 1)
    assert local_platform == "linux-amd64"

    result = project.make("push", f"REGISTRY={registry}")
    assert built(result), "make push did not build the arm64 image"
    assert project.image() == image
    commit_tag = f"git-{project.commit()}"
    pushed = (
        f"Pushed {remote}:{content_hash} and {remote}:{commit_tag},"
        " one image for linux/amd64 linux/arm64"
    )
    assert pushed in result.stdout
    path = remote.removeprefix(f"{REGISTRY_ADDRESS}/")
    platform_tags = {f"{content_hash}-linux-amd64", f"{content_hash}-linux-arm64"}
    assert registry_tags(path) == {content_hash, commit_tag, *platform_tags}

    # The content-hash and commit tags are one manifest list that holds each platform's own image.
    platform_digests = {
        target: registry_manifest(path, f"{content_hash}-{target.replace('/', '-')}", MANIFEST)[0]
        for target in ("linux/amd64", "linux/arm64")
    }
    list_digest, manifest_list = registry_manifest(path, content_hash, MANIFEST_LIST)
    assert manifest_list["mediaType"] == MANIFEST_LIST
    listed = {
        f"{entry['platform']['os']}/{entry['platform']['architecture']}": entry
        for entry in manifest_list["manifests"]
    }
    assert {target: entry["digest"] for target, entry in listed.items()} == platform_digests
    assert registry_manifest(path, commit_tag, MANIFEST_LIST)[0] == list_digest
    assert f"Digest: {remote}@{list_digest}" in result.stdout
    arm64_image = f"{PROJECT}:{content_hash}-linux-arm64"
    assert project.inspect("{{.Os}}/{{.Architecture}}", arm64_image) == "linux/arm64"

    # A run's manifest names the digest of the very image it ran in: this platform's.
    project.make("train", FAST, "RUN_NAME=pushed")
    digest = project.manifest("pushed")["image"]["digest"]
    assert digest == f"{remote}@{platform_digests['linux/amd64']}"

    for tag in (arm64_image, f"{remote}:{content_hash}-linux-arm64"):
        assert project.docker("image", "rm", tag).returncode == 0
    # Every tag of the image goes: the one built on the local base may be the very same image.
    assert project.docker("image", "rm", "--force", image_id).returncode == 0
    assert project.docker("image", "inspect", image_id).returncode != 0, (
        "the image is still on this machine"
    )

    result = project.make("pull", f"REGISTRY={registry}")
    assert f"Pulled {remote}:{content_hash}-linux-amd64 as {image}" in result.stdout
    assert project.inspect("{{.Id}}", image) == image_id

    result = project.make("train", FAST, "RUN_NAME=pulled")
    assert not built(result), "make train rebuilt the pulled image"
    pulled = project.manifest("pulled")
    assert pulled["image"]["id"] == image_id
    assert pulled["image"]["digest"] == digest
    fingerprints = {
        project.manifest(run)["result"]["fingerprint"]
        for run in ("before-push", "pushed", "pulled")
    }
    assert len(fingerprints) == 1


@pytest.fixture(scope="module")
def tracking_server(project):
    """The project's tracking server on a free port: its base URL and write token."""
    port = free_port()
    result = project.make("tracking-server", f"PORT={port}")
    said = result.stdout.splitlines()
    [token_line] = [line for line in said if line.startswith("Write token: ")]
    [command] = [line.strip() for line in said if "make train NETWORK=" in line]
    token = token_line.split()[2]
    return {"url": f"http://127.0.0.1:{port}", "port": port, "token": token, "command": command}


def test_tracking_server_is_on_localhost_only_and_keeps_its_token_private(project, tracking_server):
    published = project.docker("port", f"{PROJECT}-tracking").stdout.strip().splitlines()
    assert published == [f"7860/tcp -> 127.0.0.1:{tracking_server['port']}"]
    token_file = project.path / ".trackio" / "server" / "write-token"
    assert token_file.read_text() == tracking_server["token"]
    assert token_file.stat().st_mode & 0o077 == 0
    assert len(tracking_server["token"]) >= 40
    # The token reaches the server through its environment, never its command line.
    arguments = project.docker(
        "inspect", "--format", "{{json .Args}}", f"{PROJECT}-tracking"
    ).stdout
    assert tracking_server["token"] not in arguments
    project.git("check-ignore", "-q", str(token_file))  # fails unless git ignores it
    assert confinement(f"{PROJECT}-tracking") == HARDENED


def test_two_concurrent_runs_reach_the_tracking_server_whole(project, tracking_server):
    network = f"{PROJECT}-tracking"
    assert tracking_server["command"] == (
        f"make train NETWORK={network} TRACKIO_SERVER_URL=http://{network}:7860 "
        f"TRACKIO_WRITE_TOKEN={tracking_server['token']}"
    )
    settings = tracking_server["command"].split()[2:]
    runs = {f"shared-seed{seed}": seed for seed in (1, 2)}
    started = time.monotonic()
    makes = [
        project.start(
            "train", *settings, FAST, f"SEED={seed}", f"RUN_NAME={run}", stderr=subprocess.PIPE
        )
        for run, seed in runs.items()
    ]
    for make in makes:
        stdout, stderr = make.communicate(timeout=900)
        assert make.returncode == 0, stdout[-3000:] + stderr[-3000:]
    # A refused or unreachable server makes finish() wait ~30 s before giving up;
    # a good one does not.
    assert time.monotonic() - started < 300

    assert set(runs) <= tracked_runs(tracking_server["url"], PROJECT)

    with read_store(project.path / ".trackio" / "server" / f"{PROJECT}.db") as store:
        for run in runs:
            assert curve_steps(store, run) == CURVE_STEPS, run
            final, config = logged(store, run)
            assert (
                final["test_accuracy"]
                == project.manifest(run)["result"]["metrics"]["test_accuracy"]
            )
            assert config["seed"] == runs[run]
        # Each trained model, as an artifact of its run, on the server too.
        models = dict(store.execute("SELECT name, type FROM artifacts").fetchall())
        assert {f"{run}-model": "model" for run in runs}.items() <= models.items()
    # Sent to the server, so not into the project's own store.
    local_store = project.path / ".trackio" / f"{PROJECT}.db"
    if local_store.exists():
        with read_store(local_store) as store:
            local_runs = {
                name for (name,) in store.execute("SELECT DISTINCT run_name FROM metrics")
            }
        assert not set(runs) & local_runs


def test_a_run_sent_to_a_server_without_a_token_stops_with_one_line(project):
    result = project.fails("train", "TRACKIO_SERVER_URL=http://127.0.0.1:9")
    assert errors(result.stderr) == [
        "error: a TrackIO server takes runs only with its write token: add TRACKIO_WRITE_TOKEN=... "
        "(make tracking-server prints it)"
    ]


def test_a_client_with_a_wrong_token_is_refused(project, tracking_server):
    def bulk_log(token: str, run: str) -> None:
        entry = {"project": PROJECT, "run": run, "metrics": {"probe": 1.0}, "step": 1}
        post_json(
            tracking_server["url"] + "/api/bulk_log",
            {"logs": [entry], "hf_token": None},
            {"X-Trackio-Write-Token": token},
        )

    with pytest.raises(urllib.error.HTTPError) as refused:
        bulk_log("not-the-token", "intruder")
    assert refused.value.code == 400
    assert "write_token is required" in refused.value.read().decode()
    # the same request with the right token is accepted
    bulk_log(tracking_server["token"], "token-holder")
    names = tracked_runs(tracking_server["url"], PROJECT)
    assert "token-holder" in names and "intruder" not in names


def test_a_restarted_tracking_server_keeps_its_token_and_runs(project, tracking_server):
    project.make("tracking-server-stop")
    result = project.make("tracking-server", f"PORT={tracking_server['port']}")
    assert (
        f"Write token: {tracking_server['token']} (kept in .trackio/server/write-token)"
        in result.stdout
    )
    assert {"shared-seed1", "shared-seed2"} <= tracked_runs(tracking_server["url"], PROJECT)


def slurm_answers() -> bool:
    try:
        command = ["sinfo", "--noheader", "--responding", "--states=idle,mixed,allocated"]
        result = captured([*command, "--format=%n"], timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(result.stdout.strip())


@pytest.fixture(scope="module")
def slurm():
    if not slurm_answers():
        pytest.skip("no Slurm node answers: run `sudo scripts/provision-slurm.sh`")


def finished_sweep(project: Project, sweep: str, seconds: float = 600) -> str:
    """make sweep-status's report, once no task is pending or running."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        report = project.make("sweep-status", f"SWEEP={sweep}").stdout
        if "pending" not in report and "running" not in report:
            return report
        time.sleep(3)
    pytest.fail(f"sweep {sweep} did not finish within {seconds} s:\n{report}")


def test_sweep_over_three_seeds_runs_three_array_tasks_that_reproduce(project, slurm):
    result = project.make("sweep", "SEED=1 2 3", FAST, "SWEEP=seeds")
    assert "Sweep seeds: 3 tasks over SEED, N_ESTIMATORS" in result.stdout
    sweep_dir = project.path / "sweeps" / "seeds"
    assert "#SBATCH --array=0-2" in (sweep_dir / "sweep.sbatch").read_text()
    job_id = (sweep_dir / "job-id").read_text().strip()
    assert job_id.isdigit()
    assert training_confinement(project.path) == HARDENED  # a task's container, as make train's

    report = finished_sweep(project, "seeds")
    assert report.strip() == f"Sweep seeds (Slurm job {job_id}): 3 tasks: 3 done"
    image_id = project.inspect("{{.Id}}", project.image())
    for index, seed in enumerate((1, 2, 3)):
        manifest = project.manifest(f"seeds-{index}")
        assert manifest["seed"] == seed and manifest["config"]["n_estimators"] == 10
        assert manifest["image"]["id"] == image_id
        assert manifest["code"]["git_commit"] == project.git("rev-parse", "HEAD").strip()
        with read_store(sweep_dir / "trackio" / str(index) / f"{PROJECT}.db") as tracked:
            steps = curve_steps(tracked, f"seeds-{index}")
            [group] = tracked.execute(
                "SELECT json_extract(config, '$._Group') FROM configs"
            ).fetchone()
        # the sweep's runs fold together on the dashboard
        assert steps == CURVE_STEPS and group == "seeds"
        assert (sweep_dir / "logs" / f"{index}.log").read_text().count("Outputs in outputs/") == 1

    # The same image and seed on the laptop give the cluster's result.
    project.make("train", FAST, "SEED=2", "RUN_NAME=laptop-seed2")
    laptop, cluster = project.manifest("laptop-seed2"), project.manifest("seeds-1")
    assert laptop["result"]["fingerprint"] == cluster["result"]["fingerprint"]


def test_a_failed_task_is_listed_with_its_log_while_the_others_complete(project, slurm):
    project.make(
        "sweep", "SEED=1", "MODEL_TYPE=svm no_such_model logistic_regression", FAST, "SWEEP=mixed"
    )
    report = finished_sweep(project, "mixed")
    lines = report.strip().splitlines()
    job_id = (project.path / "sweeps" / "mixed" / "job-id").read_text().strip()
    failed_task = (
        "  failed task 1 (SEED=1 MODEL_TYPE=no_such_model N_ESTIMATORS=10): sweeps/mixed/logs/1.log"
    )
    its_error = (
        "    error: MODEL_TYPE must be one of random_forest, svm, logistic_regression,"
        " got 'no_such_model'"
    )
    assert lines == [
        f"Sweep mixed (Slurm job {job_id}): 3 tasks: 2 done, 1 failed",
        failed_task,
        its_error,
    ]
    assert project.manifest("mixed-0")["config"]["model_type"] == "svm"
    assert project.manifest("mixed-2")["config"]["model_type"] == "logistic_regression"
    assert not (project.path / "outputs" / "mixed-1").exists()


def test_a_sweep_logs_every_task_to_the_tracking_server(project, slurm, tracking_server):
    settings = tracking_server["command"].split()[2:]
    project.make("sweep", *settings, "SEED=3 4", FAST, "SWEEP=tracked")
    assert finished_sweep(project, "tracked").strip().endswith("2 tasks: 2 done")
    with read_store(project.path / ".trackio" / "server" / f"{PROJECT}.db") as store:
        for run in ("tracked-0", "tracked-1"):
            assert curve_steps(store, run) == CURVE_STEPS, run
    # The token reached the tasks through Slurm's environment, never through a file of the sweep.
    for path in (project.path / "sweeps" / "tracked").rglob("*"):
        if path.is_file() and path.suffix != ".db":
            assert tracking_server["token"] not in path.read_text(errors="replace"), path
