"""The data: scikit-learn's digits (built in, offline) or a CSV of your own; its task; and the
model's first step, which prepares its columns."""

import sys
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
from cleaning import DataError, read_csv
from columns import MAX_CATEGORIES, column_kind, expand_dates, is_number, leaks

MAX_CLASSES = 20  # a target of more distinct whole numbers holds a quantity, not classes


@dataclass
class Dataset:
    features: pd.DataFrame  # the cleaned columns: preprocessing() prepares them inside the model
    target: pd.Series
    task: str  # classification or regression
    facts: dict  # what the run's manifest records about the data


def preprocessing(dense: bool = False):
    """Numbers: empty cells get the column's median, then scaled. Text: empty cells become
    "missing", then one-hot, at most MAX_CATEGORIES columns each, sparse when mostly zeros.
    Fitted with the model; dense=True for a network, which takes no sparse input."""
    median = SimpleImputer(strategy="median", keep_empty_features=True)  # no warning, empty or not
    numbers = make_pipeline(median, StandardScaler())
    missing = SimpleImputer(strategy="constant", fill_value="missing")
    encode = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES)
    text = make_pipeline(missing, encode)
    columns = (numbers, select(dtype_include="number")), (text, select(dtype_exclude="number"))
    return make_column_transformer(*columns, sparse_threshold=0 if dense else 0.3)


def load_dataset(path: str, target: str, task: str = "auto", test_size: float = 0.2) -> Dataset:
    notes = []  # each cleaning step, in a line: printed, and kept in the manifest
    if path:
        sources.fetch(path)  # a course data set that data/sources.txt lists comes on first use
        frame = read_csv(Path(path), notes)
        facts = {"file": path, "sha256": sources.sha256(Path(path))}
    else:
        frame = load_digits(as_frame=True).frame
        loader = "sklearn.datasets.load_digits"
        facts = {"name": "digits", "loader": loader, "version": sklearn.__version__}
    if target not in frame.columns:
        columns = ", ".join(map(repr, frame.columns))
        problem = f"TARGET {target!r} is not a column; the columns are {columns}"
        numbered = " (the first line holds data, not names)" if "column_1" in frame.columns else ""
        raise DataError(f"{problem}{numbered}: pass one as TARGET=")
    empty = frame[target].isna()
    if empty.all():
        raise DataError(f"TARGET column {target!r} is empty in every row: choose another TARGET")
    written_as_float = frame[target].dtype.kind == "f" and not empty.any()  # 60323.0: a quantity
    frame = frame[~empty].infer_objects()  # a column of booleans with empty cells is booleans again
    infinite = [name for name in frame.select_dtypes("number") if np.isinf(frame[name]).any()]
    if infinite:
        problem = f"columns {', '.join(infinite)} hold infinite values"
        raise DataError(f"{problem}: replace them with numbers, or leave those cells empty")
    features = expand_dates(frame.drop(columns=target), notes)
    kinds = {name: column_kind(features[name], notes) for name in features.columns}
    kept = [name for name, kind in kinds.items() if not kind.startswith("identifier")]
    if not kept:
        raise DataError("the data has no feature columns besides TARGET and identifiers: add some")
    # Categories as text, empty cells as NaN, in Python objects: what the imputer and encoder take.
    text = {name: "str" for name in kept if not is_number(features[name])}
    features = features[kept].astype(text).astype(dict.fromkeys(text, object))
    task, reason = choose_task(frame[target], task, written_as_float)
    check_rows(frame[target], task, test_size)
    warnings = leaks(features, frame[target], task)
    for note in notes:
        print(f"data: {note}")
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    facts |= {"rows": len(frame), "rows_dropped_for_empty_target": int(empty.sum())}
    facts |= {"columns": kinds}
    facts |= {"cleaning": notes, "warnings": warnings, "task": task, "task_reason": reason}
    return Dataset(features, frame[target], task, facts)


def choose_task(target: pd.Series, requested: str, written_as_float: bool) -> tuple[str, str]:
    """Classification for text, booleans or whole numbers that are codes; otherwise regression."""
    if requested == "regression" and not is_number(target):
        problem = f"TASK=regression needs a numeric target, and {target.name!r} holds text"
        raise DataError(f"{problem}: choose a numeric TARGET, or leave TASK=auto for classes")
    if requested != "auto":
        return requested, f"TASK={requested}"
    if not is_number(target):
        return "classification", "the target holds text or booleans"
    if not (target % 1 == 0).all():
        return "regression", "the target holds numbers with fractions"
    if target.nunique() <= 2:
        return "classification", "the target holds 2 whole numbers, as yes or no"
    signs = quantity_signs(target, written_as_float)
    if signs:
        why = f"whole numbers that look like a quantity: {', '.join(signs)}"
        return "regression", f"the target holds {why}; TASK=classification if they are classes"
    why = f"{target.nunique()} whole numbers, as codes of classes"
    return "classification", f"the target holds {why}; TASK=regression if they are a quantity"


def quantity_signs(target: pd.Series, written_as_float: bool) -> list[str]:
    counts = target.value_counts().sort_index()
    low, high, distinct = target.min(), target.max(), len(counts)
    signs = [f"{distinct} distinct values"] if distinct > MAX_CLASSES else []
    if len(target) < 5 * distinct:
        signs.append(f"{distinct} values in {len(target)} rows")
    if written_as_float:
        signs.append(f"written as {high:.1f}")
    if high - low + 1 > 2 * distinct:
        signs.append(f"spread from {low:g} to {high:g}")
    if low >= 0 and distinct >= 6 and counts.iloc[-(distinct // 3) :].sum() < 0.05 * len(target):
        signs.append("rarer the larger, as counts are")
    return signs


def check_rows(target: pd.Series, task: str, test_size: float) -> None:
    """Rows enough for a training and a test part, and each class in both."""
    part = min(test_size, 1 - test_size) * len(target)
    if task == "regression" and part < 2:  # a score needs two rows
        rows = f"fewer than 2 of {len(target)} rows to a part"
        raise DataError(f"TEST_SIZE={test_size} leaves {rows}")
    if task != "classification":
        return
    classes = target.value_counts()  # each class goes to both the training and the test rows
    quantity = ", or TASK=regression if it is a quantity" if is_number(target) else ""
    if len(classes) < 2 or classes.min() < 2:
        rarest = f"the rarest: {classes.tail(3).to_dict()}"
        fix = f"merge or drop the rare classes{quantity}"
        problem = f"TARGET {target.name!r} needs 2 classes of 2 rows or more"
        raise DataError(f"{problem}; {rarest}: {fix}")
    if part < len(classes):
        rows = f"too few of the {len(target)} rows for {len(classes)} classes"  # docs/data.md
        raise DataError(f"TEST_SIZE={test_size} leaves {rows}")
