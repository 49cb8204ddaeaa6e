"""The data: scikit-learn's digits (built in, offline) or a CSV of your own, and how its columns are prepared."""

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import make_column_selector as select
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_digits
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sources

MAX_CLASSES = 20  # a target of at most this many distinct whole numbers holds classes, not quantities


class DataError(ValueError):
    """The data cannot be used as it is; the message says what to change."""


@dataclass
class Dataset:
    features: pd.DataFrame  # the raw columns: preprocessing() prepares them inside the model
    target: pd.Series
    task: str  # classification or regression
    facts: dict  # what the run's manifest records about the data


def preprocessing():
    """Numbers: empty cells get the column's median, then scaled. Text: empty cells become "missing", then
    one-hot, ignoring categories that training never saw. Fitted with the model, so it takes raw rows."""
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    missing = SimpleImputer(strategy="constant", fill_value="missing")
    text = make_pipeline(missing, OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    return make_column_transformer((numbers, select(dtype_include="number")), (text, select(dtype_exclude="number")))


def load_dataset(path: str, target: str, task: str = "auto", test_size: float = 0.2) -> Dataset:
    if path:
        frame = read_csv(Path(path))
        facts = {"file": path, "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest()}
    else:
        frame = load_digits(as_frame=True).frame
        facts = {"name": "digits", "loader": "sklearn.datasets.load_digits", "version": sklearn.__version__}
    if target not in frame.columns:
        raise DataError(f"TARGET {target!r} is not a column; the columns are {', '.join(map(repr, frame.columns))}")
    if (empty := frame[target].isna()).all():
        raise DataError(f"TARGET column {target!r} is empty in every row: choose another TARGET")
    frame = frame[~empty].infer_objects()  # a column of booleans with empty cells is booleans again
    if infinite := [name for name in frame.select_dtypes("number") if np.isinf(frame[name]).any()]:
        raise DataError(f"columns {', '.join(infinite)} hold infinite values: replace them, or leave those cells empty")
    kinds = {name: column_kind(frame[name]) for name in frame.columns if name != target}
    kept = [name for name, kind in kinds.items() if kind != "identifier (dropped)"]
    for name in kinds.keys() - kept:
        print(f"Dropped column {name!r}: a different value in every row, as an identifier has")
    if not kept:
        raise DataError("the data has no feature columns besides TARGET and identifiers")
    # Categories as text, and empty cells as NaN, in Python objects: what the imputer and the encoder take.
    text = {name: "str" for name in kept if kinds[name] == "category"}
    features = frame[kept].astype(text).astype(dict.fromkeys(text, object))
    task, reason = choose_task(frame[target], task)
    classes = frame[target].value_counts()  # each class goes to both the training and the test rows
    if task == "classification" and (len(classes) < 2 or classes.min() < 2):
        raise DataError(f"TARGET {target!r} needs 2 classes of 2 rows or more; the rarest: {classes.tail(3).to_dict()}")
    if task == "classification" and min(test_size, 1 - test_size) * len(frame) < len(classes):
        raise DataError(f"TEST_SIZE={test_size} leaves too few of the {len(frame)} rows for {len(classes)} classes")
    facts |= {"rows": len(frame), "rows_dropped_for_empty_target": int(empty.sum()), "columns": kinds}
    return Dataset(features, frame[target], task, facts | {"task": task, "task_reason": reason})


def read_csv(path: Path) -> pd.DataFrame:
    name = repr(str(path))
    if not path.is_file() and not sources.fetch(str(path)):  # a course data set is fetched on first use
        raise DataError(f"DATA file {name} does not exist: put it under data/ and pass DATA=data/<file>.csv")
    with path.open("rb") as file:
        head = file.read(1 << 16)
    if b"\0" in head or not head.strip():
        raise DataError(f"DATA file {name} " + ("is not text: export it as CSV" if head.strip() else "is empty"))
    header = head.decode(errors="replace").splitlines()[0]
    separator = max(",;\t", key=header.count)  # spreadsheets in many countries write ;
    columns = next(csv.reader([header], delimiter=separator))
    if twice := sorted({column for column in columns if columns.count(column) > 1}):
        raise DataError(f"DATA file {name} has more than one column named {', '.join(twice)}: rename them")
    comma_decimals = separator == ";" and re.search(rb"\d,\d", head)  # 3,5 as those spreadsheets write it
    try:  # "?" marks an empty cell in many public data sets
        frame = pd.read_csv(path, sep=separator, decimal="," if comma_decimals else ".", na_values="?")
    except ValueError as error:  # pandas' parse errors, and text that is not UTF-8
        raise DataError(f"DATA file {name} is not a readable UTF-8 CSV file: {error}") from None
    if frame.empty:
        raise DataError(f"DATA file {name} has a header but no rows")
    return frame


def column_kind(column: pd.Series) -> str:
    """number, category, or identifier: a different text in every row, such as a name, cannot generalise."""
    if is_number(column):
        return "number"
    return "identifier (dropped)" if 1 < len(column) == column.nunique() else "category"


def is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and column.dtype != bool


def choose_task(target: pd.Series, requested: str) -> tuple[str, str]:
    """Classification for text, booleans or a few distinct whole numbers; otherwise regression."""
    if requested == "regression" and not is_number(target):
        raise DataError(f"TASK=regression needs a numeric target, and {target.name!r} holds text")
    if requested != "auto":
        return requested, f"TASK={requested}"
    if not is_number(target):
        return "classification", "the target holds text or booleans"
    if (target % 1 == 0).all() and target.nunique() <= MAX_CLASSES:
        return "classification", f"the target holds {target.nunique()} distinct whole numbers, at most {MAX_CLASSES}"
    return "regression", "the target holds numbers that are not a few whole ones"
