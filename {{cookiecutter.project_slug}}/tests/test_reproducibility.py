import hashlib
import json
import os
import shutil
import subprocess
import sys

from conftest import PROJECT_DIR, UNSEEDED_EDIT, run_dirs

SMALL = {"N_ESTIMATORS": "10", "PYTHONHASHSEED": "0"}


def run_verify(tmp_path, *args: str, project_dir=PROJECT_DIR) -> subprocess.CompletedProcess:
    env = {**os.environ, **SMALL, "OUTPUT_DIR": str(tmp_path / "outputs"), "TRACKIO_DIR": str(tmp_path / "trackio")}
    return subprocess.run(
        [sys.executable, str(project_dir / "verify.py"), *args], env=env, capture_output=True, text=True, timeout=600
    )


def git_head() -> str | None:
    if "GIT_COMMIT" in os.environ:  # in the container, which has no git, make passes what git says on the host
        return os.environ["GIT_COMMIT"] or None
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


def test_manifest_records_what_decides_the_result(run_training, tmp_path):
    rows = ["x1,x2,label"] + [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(60)]
    data = tmp_path / "toy.csv"
    data.write_text("\n".join(rows) + "\n")
    assert run_training(DATA=str(data), TARGET="label", SEED="3").returncode == 0
    [run_dir] = run_dirs(tmp_path)
    manifest = json.loads((run_dir / "manifest.json").read_text())

    assert manifest["seed"] == 3 and manifest["config"]["target"] == "label"
    assert manifest["data"] == {"file": str(data), "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}
    assert manifest["code"]["git_commit"] == git_head()
    assert manifest["image"]["local"] is ("IMAGE_ID" not in os.environ)  # make passes the image's ID in
    assert manifest["python"] == sys.version.split()[0]
    assert manifest["packages"]["scikit-learn"] and manifest["packages"]["numpy"]
    assert any(pool["internal_api"] for pool in manifest["threadpools"])
    assert manifest["result"]["metrics"] == json.loads((run_dir / "metrics.json").read_text())
    assert len(manifest["result"]["fingerprint"]) == 64
    assert not list((tmp_path / "outputs").glob(".partial-*"))


def test_verify_passes_for_the_project(tmp_path):
    result = run_verify(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OK: two fresh runs of the same config reproduced" in result.stdout


def test_verify_catches_an_unseeded_draw(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, copy, ignore=shutil.ignore_patterns("outputs", ".trackio", ".git", ".venv"))
    train = copy / "train.py"
    seeded, unseeded = UNSEEDED_EDIT
    assert seeded in train.read_text()
    train.write_text(train.read_text().replace(seeded, unseeded))
    result = run_verify(tmp_path, project_dir=copy)
    assert result.returncode == 1
    assert "did not reproduce" in result.stderr
    assert "predictions:" in result.stderr or "metric " in result.stderr


def recorded_run(run_training, tmp_path) -> tuple[str, dict, object]:
    assert run_training(**SMALL).returncode == 0
    [run_dir] = run_dirs(tmp_path)
    return run_dir.name, json.loads((run_dir / "manifest.json").read_text()), run_dir / "manifest.json"


def test_reproduce_passes_for_a_recorded_run(run_training, tmp_path):
    name, _, _ = recorded_run(run_training, tmp_path)
    result = run_verify(tmp_path, name)
    assert result.returncode == 0, result.stderr
    assert f"OK: run {name} reproduced" in result.stdout
    # Nothing drifted; only a dirty working tree, if yours is one, is worth a warning.
    drifted = [line for line in result.stderr.splitlines() if line.startswith("  ") and "uncommitted" not in line]
    assert drifted == []


def test_reproduce_fails_when_the_recorded_fingerprint_differs(run_training, tmp_path):
    name, manifest, path = recorded_run(run_training, tmp_path)
    manifest["result"]["fingerprint"] = "0" * 64
    path.write_text(json.dumps(manifest))
    result = run_verify(tmp_path, name)
    assert result.returncode == 1
    assert f"run {name} did not reproduce" in result.stderr


def test_reproduce_warns_about_drifted_packages(run_training, tmp_path):
    name, manifest, path = recorded_run(run_training, tmp_path)
    actual = manifest["packages"]["numpy"]
    manifest["packages"]["numpy"] = "0.0.1"
    path.write_text(json.dumps(manifest))
    result = run_verify(tmp_path, name)
    assert result.returncode == 0
    assert "warning: the environment differs" in result.stderr
    assert f"package numpy: 0.0.1 -> {actual}" in result.stderr


def test_reproduce_of_an_unknown_run_lists_the_runs(run_training, tmp_path):
    name, _, _ = recorded_run(run_training, tmp_path)
    result = run_verify(tmp_path, "no-such-run")
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no recorded run 'no-such-run' in {tmp_path / 'outputs'}; available: {name}"
