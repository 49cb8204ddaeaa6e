"""Your own CSV as it comes: text columns, empty cells, numeric targets, and files that cannot be used."""

import numpy as np
import pandas as pd
import pytest
from conftest import manifest, run_script, runs

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
    assert dataset.facts["columns"] == {"island": "category", "bill_mm": "number", "sex": "category"}
    prepare = preprocessing().fit(dataset.features)
    # New raw rows, with empty cells and an island that training never saw: each becomes numbers all the same.
    new_rows = pd.DataFrame({"island": ["Mars", None], "bill_mm": [None, 40.0], "sex": ["male", None]})
    assert prepare.transform(new_rows).shape == (2, 1 + 3 + 3) and np.isfinite(prepare.transform(new_rows)).all()


def test_text_only_columns_are_one_hot(tmp_path):
    rows = "".join(f"{'ab'[i % 2]},{'xyz'[i % 3]},{'yes' if i % 2 else 'no'}\n" for i in range(40))
    dataset = load_dataset(csv_file(tmp_path, "colour,size,label\n" + rows), "label")
    values = preprocessing().fit_transform(dataset.features)
    assert values.shape == (40, 2 + 3) and set(np.unique(values)) == {0.0, 1.0}


def test_semicolon_files_with_decimal_commas_or_points_read_as_numbers(tmp_path):
    for decimals in ("1,5;2;x\n2,5;3;y\n3,0;?;x\n4,5;1;y\n", "1.5;2;x\n2.5;3;y\n3.0;?;x\n4.5;1;y\n"):
        dataset = load_dataset(csv_file(tmp_path, "a;b;label\n" + decimals), "label", test_size=0.5)
        assert dataset.features["a"].tolist() == [1.5, 2.5, 3.0, 4.5] and dataset.features["b"].isna().sum() == 1
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
    assert dataset.facts["columns"]["name"] == "identifier (dropped)" and list(dataset.features) == ["x"]
    assert dataset.facts["rows_dropped_for_empty_target"] == 1 and dataset.facts["rows"] == 29


def test_a_numeric_target_gives_a_regression_that_beats_a_constant(tmp_path):
    rows = "".join(
        f"{i % 17},{(i * 7) % 11},{'ab'[i % 2]},{3.5 * (i % 17) - (i * 7) % 11 + 0.1 * i}\n" for i in range(200)
    )
    data = csv_file(tmp_path, "x1,x2,group,weight\n" + rows)
    result = run_script(tmp_path, "train.py", DATA=data, TARGET="weight")
    assert result.returncode == 0, result.stderr
    assert "regression (the target holds numbers" in result.stdout
    [run_dir] = runs(tmp_path)
    record = manifest(run_dir)
    assert record["data"]["task"] == "regression" and record["result"]["metrics"]["test_r2"] > 0.2  # a constant: 0
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
    ],
    ids=["empty", "header", "empty-target", "one-class", "one-row-class", "binary", "duplicates", "inf", "no-target"],
)
def test_unusable_data_is_refused_with_what_to_do(tmp_path, content, target, message):
    with pytest.raises(DataError, match=message):
        load_dataset(csv_file(tmp_path, content), target)
