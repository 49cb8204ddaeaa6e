"""Your own CSV as it comes: text columns, empty cells, numeric targets,
and files that cannot be used."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import manifest, script_process, side_by_side
from sklearn.model_selection import KFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from test_tracking import trackio

from columns import LEAK_SCORE, ceiling, leak_score
from data import DataError, load_dataset, preprocessing

PENGUINS = (
    "species,island,bill_mm,sex\n"
    + 5
    * """Adelie,Torgersen,39.1,male
Adelie,Biscoe,,female
Gentoo,Biscoe,46.1,
Gentoo,Biscoe,50.0,male
Chinstrap,Dream,46.5,female
Chinstrap,Dream,50.0,male
"""
)


def csv_file(tmp_path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def test_text_columns_and_empty_cells_are_prepared_inside_the_model(tmp_path):
    dataset = load_dataset(csv_file(tmp_path, PENGUINS), "species")
    assert dataset.task == "classification"
    assert dataset.facts["columns"] == {
        "island": "category",
        "bill_mm": "number",
        "sex": "category",
    }
    prepare = preprocessing().fit(dataset.features)
    # New raw rows, with empty cells and an island that training never saw:
    # each becomes numbers all the same.
    new_rows = pd.DataFrame(
        {"island": ["Mars", None], "bill_mm": [None, 40.0], "sex": ["male", None]}
    )
    assert (
        prepare.transform(new_rows).shape == (2, 1 + 3 + 3)
        and np.isfinite(prepare.transform(new_rows)).all()
    )


def test_text_only_columns_are_one_hot(tmp_path):
    rows = "".join(f"{'ab'[i % 2]},{'xyz'[i % 3]},{'yes' if i % 2 else 'no'}\n" for i in range(40))
    dataset = load_dataset(csv_file(tmp_path, "colour,size,label\n" + rows), "label")
    values = preprocessing().fit_transform(dataset.features)
    assert values.shape == (40, 2 + 3) and set(np.unique(values)) == {0.0, 1.0}


def test_semicolon_files_with_decimal_commas_or_points_read_as_numbers(tmp_path):
    for decimals in (
        "1,5;2;x\n2,5;3;y\n3,0;?;x\n4,5;1;y\n",
        "1.5;2;x\n2.5;3;y\n3.0;?;x\n4.5;1;y\n",
    ):
        dataset = load_dataset(csv_file(tmp_path, "a;b;label\n" + decimals), "label", test_size=0.5)
        assert (
            dataset.features["a"].tolist() == [1.5, 2.5, 3.0, 4.5]
            and dataset.features["b"].isna().sum() == 1
        )
        assert dataset.facts["columns"] == {"a": "number", "b": "number"}


def test_booleans_with_empty_cells_as_a_column_and_as_the_target(tmp_path):
    flags, labels = ["True", "False", ""], ["True", "False", "True", "False", ""]
    rows = "".join(f"{flags[i % 3]},{i % 4},{labels[i % 5]}\n" for i in range(40))
    dataset = load_dataset(csv_file(tmp_path, "flag,x,label\n" + rows), "label")
    assert dataset.task == "classification" and set(dataset.target) == {True, False}
    assert preprocessing().fit_transform(dataset.features).shape == (32, 3 + 1)


def test_an_identifier_column_is_dropped_and_empty_targets_are_counted(tmp_path):
    rows = "".join(f"id-{i},{i % 5},{'' if i == 3 else i % 2}\n" for i in range(30))
    dataset = load_dataset(csv_file(tmp_path, "name,x,label\n" + rows), "label")
    assert dataset.facts["columns"]["name"] == "identifier (dropped)" and list(
        dataset.features
    ) == ["x"]
    assert dataset.facts["rows_dropped_for_empty_target"] == 1 and dataset.facts["rows"] == 29


@pytest.fixture(scope="module")
def own_data(tmp_path_factory) -> tuple[Path, dict]:
    """train.py on two CSVs of a student's own, side by side: `weight`, a numeric target that
    the columns decide, and `noise`, a label that no column predicts. Their folder and results."""
    tmp_path = tmp_path_factory.mktemp("own-data")
    rows = "".join(
        f"{i % 17},{(i * 7) % 11},{'ab'[i % 2]},{3.5 * (i % 17) - (i * 7) % 11 + 0.1 * i}\n"
        for i in range(200)
    )
    weights = csv_file(tmp_path, "x1,x2,group,weight\n" + rows, "weights.csv")
    noise = np.random.default_rng(0).integers(0, 2, size=(120, 2))
    rows = "".join(f"{a},{'xy'[b]}\n" for a, b in noise)
    labels = csv_file(tmp_path, "a,label\n" + rows, "noise.csv")
    data = {"weight": (weights, "weight"), "noise": (labels, "label")}  # the file, its TARGET
    processes = {
        name: script_process(tmp_path, "train.py", DATA=path, TARGET=target, RUN_NAME=name)
        for name, (path, target) in data.items()
    }
    return tmp_path, side_by_side(processes)


def test_a_numeric_target_gives_a_regression_that_beats_a_constant(own_data):
    folder, results = own_data
    assert results["weight"].returncode == 0, results["weight"].stderr
    assert "regression (the target holds numbers" in results["weight"].stdout
    run_dir = folder / "outputs" / "weight"
    record = manifest(run_dir)
    assert record["data"]["task"] == "regression"
    assert record["result"]["metrics"]["test_r2"] > 0.2  # a constant: 0
    assert {"test_rmse", "test_mae"} <= set(record["result"]["metrics"])
    assert (run_dir / "predicted_vs_true.png").exists()


def test_task_forces_the_choice(tmp_path):
    data = csv_file(tmp_path, "x,y\n" + "".join(f"{i * 7 % 30},{i % 3}\n" for i in range(30)))
    assert load_dataset(data, "y").task == "classification"
    assert load_dataset(data, "y", "regression").task == "regression"


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        ("", "y", "is empty"),
        ("x,y\n", "y", "has a header but no rows"),
        ("x,y\n1,\n2,\n", "y", "TARGET column 'y' is empty in every row"),
        ("x,y\n5,a\n3,a\n", "y", "needs 2 classes"),
        ("x,y\n5,a\n3,a\n4,b\n", "y", "of 2 rows or more; the rarest: {'a': 2, 'b': 1}"),
        (b"PK\x03\x04\x00\x00binary", "y", "is not text"),
        ("x,x,y\n1,2,a\n3,4,b\n", "y", "more than one column named x"),
        ("x,y\ninf,a\n-inf,b\n", "y", "columns x hold infinite values"),
        ("x,y\n1,a\n", "label", "TARGET 'label' is not a column; the columns are 'x', 'y'"),
        ("x,y\n1,2.5\n3,0.5\n", "y", "TEST_SIZE=0.2 leaves fewer than 2 of 2 rows to a part"),
    ],
    ids=[
        "empty",
        "header",
        "empty-target",
        "one-class",
        "one-row",
        "binary",
        "twice",
        "inf",
        "no-target",
        "few",
    ],
)
def test_unusable_data_is_refused_with_what_to_do(tmp_path, content, target, message):
    with pytest.raises(DataError, match=message):
        load_dataset(csv_file(tmp_path, content), target)


def test_what_a_student_would_clean_first_is_cleaned_and_said(tmp_path):
    labels = [" Yes", "Yes ", "No"]
    rows = "".join(f'{i * 7 % 40},"{1000 + 97 * i:,}",{labels[i % 3]},\n' for i in range(40))
    dataset = load_dataset(csv_file(tmp_path, "x,price,label,\n" + rows), "label")
    assert set(dataset.target) == {"Yes", "No"} and dataset.features["price"].iloc[1] == 1097
    said = "\n".join(dataset.facts["cleaning"])
    assert "dropped 1 empty column(s) without a name" in said and "'label': 1 merged" in said
    assert "read 'price' as numbers written with thousands separators" in said


def test_a_long_file_is_read_whole_though_only_its_head_is_looked_at(tmp_path):
    rows = [f"{i % 7},{i % 3};{'xy'[i % 2]};{'ab'[i % 3 // 2]}\n" for i in range(20_000)]  # > 64 KB
    rows[-1] = "9,5;é;a\n"  # the only byte that is not UTF-8 is in the last line
    data = csv_file(tmp_path, ("a;word;label\n" + "".join(rows)).encode("cp1252"))
    dataset = load_dataset(data, "label")
    assert "read as cp1252" in dataset.facts["cleaning"][0]
    assert dataset.features["a"].iloc[-1] == 9.5 and dataset.features["word"].iloc[-1] == "é"
    assert len(dataset.target) == 20_000


def test_a_windows_file_and_a_file_without_header_are_read_and_said(tmp_path):
    rows = "".join(f"{i % 5},{i * 3 % 7},{['mâle', 'femelle'][i % 2]}\n" for i in range(30))
    dataset = load_dataset(csv_file(tmp_path, ("a,b,sexe\n" + rows).encode("cp1252")), "sexe")
    assert set(dataset.target) == {"mâle", "femelle"}
    assert "read as cp1252" in dataset.facts["cleaning"][0]
    dataset = load_dataset(csv_file(tmp_path, rows), "column_3")
    assert "the first line holds data, not names" in dataset.facts["cleaning"][0]
    years = "".join(f"{'ab'[i % 2]},{i % 3},{i % 5},{i % 7}\n" for i in range(30))  # names: years
    assert (
        load_dataset(csv_file(tmp_path, "k,2019,2020,2021\n" + years), "k").facts["cleaning"] == []
    )


def test_row_numbers_and_ids_are_dropped_but_a_year_is_kept(tmp_path):
    rows = "".join(f"{i + 1},{900 + 7 * i},{1947 + i},{i % 11},{'ab'[i % 2]}\n" for i in range(40))
    dataset = load_dataset(csv_file(tmp_path, ",user_id,year,x,label\n" + rows), "label")
    assert list(dataset.features) == ["year", "x"]
    assert list(dataset.facts["columns"].values()).count("identifier (dropped)") == 2


@pytest.mark.parametrize(
    ("values", "task", "why"),
    [
        ([115 + 3 * i for i in range(15)], "regression", "15 values in 15 rows"),
        ([60323.0 + 10 * (i % 5) for i in range(40)], "regression", "written as 60363.0"),
        ([i % 4 for i in range(80)], "classification", "TASK=regression if they are a quantity"),
        (np.repeat(range(8), [40, 25, 15, 10, 5, 3, 1, 1]), "regression", "as counts are"),
    ],
    ids=["few-rows", "x.0", "codes", "counts"],
)
def test_whole_numbers_are_classes_or_a_quantity_from_how_they_look(tmp_path, values, task, why):
    rows = "".join(f"{i * 7 % 23},{value}\n" for i, value in enumerate(values))
    dataset = load_dataset(csv_file(tmp_path, "x,y\n" + rows), "y")
    assert dataset.task == task and why in dataset.facts["task_reason"]


def test_a_quantity_forced_into_classes_is_told_to_try_regression(tmp_path):
    data = csv_file(tmp_path, "x,y\n" + "".join(f"{i % 7},{i * i}\n" for i in range(30)))
    with pytest.raises(DataError, match="merge or drop the rare classes, or TASK=regression"):
        load_dataset(data, "y", "classification")


def test_a_column_that_is_the_answer_in_disguise_is_named(tmp_path):
    weights = [2000 + 37 * (i % 61) for i in range(200)]
    rows = "".join(f"{i % 9},{w},{int(w < 2500)}\n" for i, w in enumerate(weights))
    dataset = load_dataset(csv_file(tmp_path, "x,weight,low\n" + rows), "low")
    [warning] = dataset.facts["warnings"]
    assert "'weight' (1.000) predict 'low' almost perfectly" in warning and "'x'" not in warning


@pytest.mark.parametrize("decimals", [None, 1, 0])  # a column of all different values, or few
@pytest.mark.parametrize("flipped", [0.0, 0.01, 0.03, 0.3])
def test_the_leak_score_is_cross_validations_or_none_when_it_cannot_reach_the_bar(
    flipped, decimals
):
    rng = np.random.default_rng(0)
    column = rng.normal(size=(600, 1))
    answer = pd.Series(column[:, 0] > 0) ^ (rng.random(600) < flipped)
    if decimals is not None:
        column = column.round(decimals)
    folds = KFold(3, shuffle=True, random_state=0)
    tree = DecisionTreeClassifier(random_state=0)
    expected = cross_val_score(tree, column, answer, cv=folds).mean()
    score = leak_score(tree, column, answer, folds)
    if score is None:
        assert expected < LEAK_SCORE
    else:
        assert score == pytest.approx(expected)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_the_ceiling_is_what_a_tree_scores_on_the_very_rows_that_it_learnt(task):
    """A tree grown to the end gives the best answer for each value of its column:
    no tree that learnt other rows can score more on these."""
    rng = np.random.default_rng(0)
    values = rng.integers(0, 12, size=300).astype(float)
    if task == "classification":
        answer = pd.Series((values + rng.integers(0, 3, size=300)) % 5)
        tree = DecisionTreeClassifier(random_state=0)
    else:
        answer = pd.Series(values**2 + rng.normal(size=300))
        tree = DecisionTreeRegressor(random_state=0)
    column = values.reshape(-1, 1)
    best = tree.fit(column, answer).score(column, answer)
    assert ceiling(values, answer, task == "classification") == pytest.approx(best)


def test_a_model_no_better_than_the_baseline_is_flagged(own_data):
    folder, results = own_data
    assert results["noise"].returncode == 0, results["noise"].stderr
    assert "does no better than the baseline" in results["noise"].stdout
    metrics = manifest(folder / "outputs" / "noise")["result"]["metrics"]
    assert metrics["test_accuracy"] <= metrics["baseline_accuracy"]
    alerts = trackio(folder / "trackio", "alerts", "--run", "noise")["alerts"]
    assert "No better than the baseline" in [alert["title"] for alert in alerts]
