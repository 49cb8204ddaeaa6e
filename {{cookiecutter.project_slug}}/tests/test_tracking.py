import json
import sqlite3

from conftest import run_dirs

PROJECT = "{{ cookiecutter.project_slug }}"


def query(tmp_path, sql: str) -> list:
    with sqlite3.connect(tmp_path / "trackio" / f"{PROJECT}.db") as db:
        return db.execute(sql).fetchall()


def test_run_config_and_metrics_are_in_the_trackio_store(run_training, tmp_path):
    result = run_training(SEED="7", OVERFIT_GAP="0")
    assert result.returncode == 0, result.stderr
    [run_dir] = run_dirs(tmp_path)
    run = run_dir.name

    [(config,)] = query(tmp_path, f"SELECT config FROM configs WHERE run_name = '{run}'")
    config = json.loads(config)
    assert config["seed"] == 7 and config["n_estimators"] == 20

    curve = query(
        tmp_path,
        f"""SELECT step, json_extract(metrics, '$."test/accuracy"') FROM metrics
            WHERE run_name = '{run}' AND json_extract(metrics, '$."test/accuracy"') IS NOT NULL ORDER BY step""",
    )
    assert [step for step, _ in curve] == list(range(1, 11))
    assert all(0 < accuracy <= 1 for _, accuracy in curve)

    [(final, table, image)] = query(
        tmp_path,
        f"""SELECT json_extract(metrics, '$."final/test_accuracy"'), json_extract(metrics, '$.per_class'),
            json_extract(metrics, '$.confusion_matrix') FROM metrics
            WHERE run_name = '{run}' AND json_extract(metrics, '$."final/test_accuracy"') IS NOT NULL""",
    )
    assert final == json.loads((run_dir / "metrics.json").read_text())["test_accuracy"]
    assert "precision" in table and "recall" in table and "f1" in table
    assert "confusion_matrix" in image or "png" in image.lower()

    # OVERFIT_GAP=0 makes any train-test gap an alert.
    [(title, level)] = query(tmp_path, f"SELECT title, level FROM alerts WHERE run_name = '{run}'")
    assert title == "Overfitting" and level.lower() == "warn"
