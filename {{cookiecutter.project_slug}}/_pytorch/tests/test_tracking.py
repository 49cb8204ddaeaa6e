import json
import sqlite3

import torch
from conftest import run_dirs

PROJECT = "{{ cookiecutter.project_slug }}"
EPOCH_METRICS = ("train/loss", "train/accuracy", "val/loss", "val/accuracy")


def query(tmp_path, sql: str) -> list:
    with sqlite3.connect(tmp_path / "trackio" / f"{PROJECT}.db") as db:
        return db.execute(sql).fetchall()


def test_run_config_environment_and_metrics_are_in_the_trackio_store(run_training, tmp_path):
    # OVERFIT_GAP=-1 makes any train-test gap an alert.
    result = run_training(SEED="7", EPOCHS="3", OVERFIT_GAP="-1")
    assert result.returncode == 0, result.stderr
    progress = [line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert progress == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    [run_dir] = run_dirs(tmp_path)
    run = run_dir.name

    [(config,)] = query(tmp_path, f"SELECT config FROM configs WHERE run_name = '{run}'")
    config = json.loads(config)
    assert config["seed"] == 7 and config["epochs"] == 3
    facts = config["environment"]["torch"]
    assert facts["device"] == "cpu" and facts["version"] == torch.__version__
    assert facts["deterministic_algorithms"] is True and facts["determinism_warn_only"] is False
    assert {"cuda", "cudnn", "gpu"} <= set(facts)

    for metric in EPOCH_METRICS:
        curve = query(
            tmp_path,
            f"""SELECT step, json_extract(metrics, '$."{metric}"') FROM metrics
                WHERE run_name = '{run}' AND json_extract(metrics, '$."{metric}"') IS NOT NULL ORDER BY step""",
        )
        assert [step for step, _ in curve] == [1, 2, 3], metric
        assert all(value >= 0 for _, value in curve), metric

    [(final, table, image)] = query(
        tmp_path,
        f"""SELECT json_extract(metrics, '$."final/test_accuracy"'), json_extract(metrics, '$.per_class'),
            json_extract(metrics, '$.confusion_matrix') FROM metrics
            WHERE run_name = '{run}' AND json_extract(metrics, '$."final/test_accuracy"') IS NOT NULL""",
    )
    assert final == json.loads((run_dir / "metrics.json").read_text())["test_accuracy"]
    assert "precision" in table and "recall" in table and "f1" in table
    assert "confusion_matrix" in image or "png" in image.lower()

    [(title, level)] = query(tmp_path, f"SELECT title, level FROM alerts WHERE run_name = '{run}'")
    assert title == "Overfitting" and level.lower() == "warn"
