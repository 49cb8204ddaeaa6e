"""What each column is: a number, a category, wide text, dates or an identifier; and which leak."""

import re

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format
from sklearn.base import is_classifier
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

MAX_CATEGORIES = 20  # a text column keeps its 19 commonest values; the rest become one
ID_NAME = re.compile(r"rownames|id|.*_id|id_.*|seqno|index|unnamed: \d+", re.IGNORECASE)
DATE_FORMATS = ("%m/%d/%y", "%d/%m/%y", "%d.%m.%Y", "%d.%m.%y")  # pandas guesses the others
LEAK_SCORE = 0.98  # one column alone that scores this (accuracy or R²) is the answer in disguise
LEAK_ROWS = 2000  # the leak check looks at this many rows, so that it stays cheap


def expand_dates(features: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Dates become year, month, day of the week, hour (if times vary) and days since 1970."""
    for name in list(features.columns):
        dates = parse_dates(features[name])
        if dates is None:
            continue
        parts = {"year": dates.dt.year, "month": dates.dt.month, "weekday": dates.dt.day_of_week}
        if (dates.dt.hour != 0).any():
            parts["hour"] = dates.dt.hour
        parts["days"] = (dates - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        position = features.columns.get_loc(name)
        for offset, (part, values) in enumerate(parts.items()):
            features.insert(position + 1 + offset, f"{name}_{part}", values.astype(float))
        features = features.drop(columns=name)
        notes.append(f"read {name!r} as dates: its {', '.join(parts)} (since 1970) as numbers")
    return features


def parse_dates(column: pd.Series) -> pd.Series | None:
    """The column as dates, when it is text and nine in ten of its values are dates of a format."""
    given = column.dropna()
    if is_number(column) or given.empty or not isinstance(given.iloc[0], str):
        return None
    for form in (guess_datetime_format(given.iloc[0]), *DATE_FORMATS):
        if form and re.search("%[mbB]", form):  # a month, not a number that reads as a year
            dates = pd.to_datetime(column, format=form, errors="coerce")
            if dates.notna().sum() >= 0.9 * len(given):
                return dates
    return None


def column_kind(column: pd.Series, notes: list[str]) -> str:
    """number, category, wide text, or identifier: a value unique to each row cannot generalise."""
    unique = 1 < len(column) == column.nunique()
    if is_number(column):
        whole = unique and (column % 1 == 0).all()
        counts_up = whole and column.iloc[0] in (0, 1) and (column.diff().iloc[1:] == 1).all()
        if whole and (ID_NAME.fullmatch(str(column.name)) or counts_up):
            named = ID_NAME.fullmatch(str(column.name))
            why = "named like an identifier" if named else "counting rows"
            notes.append(f"dropped column {column.name!r}: {why}, a different number in every row")
            return "identifier (dropped)"
        return "number"
    if unique:
        notes.append(f"dropped column {column.name!r}: a different text in every row, as in an ID")
        return "identifier (dropped)"
    if column.nunique() > MAX_CATEGORIES:
        commonest = f"its {MAX_CATEGORIES - 1} commonest values kept, the rest as one"
        texts = f"{column.nunique()} different texts"
        notes.append(f"column {column.name!r} holds {texts}: {commonest}")
        return "wide text (capped)"
    return "category"


def is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and column.dtype != bool


def ceiling(values: np.ndarray, y: pd.Series, classes: bool) -> float:
    """The score of the best answer for each value of a column, on these rows: the most that any
    tree on that column alone can score on them (accuracy for classes, else R²)."""
    group, _ = pd.factorize(values)
    if classes:
        label, labels = pd.factorize(y)
        counts = np.zeros((group.max() + 1, len(labels)))
        np.add.at(counts, (group, label), 1)
        return counts.max(axis=1).sum() / len(y)
    target = y.to_numpy(dtype=float)
    means = np.bincount(group, weights=target) / np.bincount(group)
    spread = ((target - target.mean()) ** 2).sum()
    return 1 - ((target - means[group]) ** 2).sum() / spread if spread else 1.0


def leak_score(tree, column: np.ndarray, y: pd.Series, folds: KFold) -> float | None:
    """The one-column tree's mean score on the held-out folds, as cross_val_score gives it without
    its machinery; None once a fold scores, or can score, too low for the mean to reach
    LEAK_SCORE (most columns: no tree is fitted)."""
    lowest = 1 - folds.get_n_splits() * (1 - LEAK_SCORE)  # the other folds can score 1 at most
    held_out = []
    for fit, test in folds.split(column):
        if ceiling(column[test, 0], y.iloc[test], is_classifier(tree)) < lowest:
            return None
        tree.fit(column[fit], y.iloc[fit])
        held_out.append(tree.score(column[test], y.iloc[test]))
        if held_out[-1] < lowest:
            return None
    return float(np.mean(held_out))


def leaks(features: pd.DataFrame, target: pd.Series, task: str) -> list[str]:
    """Columns that alone predict the target almost perfectly: a one-column tree, three folds."""
    rows = features.sample(min(LEAK_ROWS, len(features)), random_state=0).index
    y = target.loc[rows]
    if len(rows) < 10 or task == "classification" and y.value_counts(normalize=True).max() > 0.9:
        return []  # too few rows to tell, or a constant is nearly perfect already
    tree = DecisionTreeClassifier if task == "classification" else DecisionTreeRegressor
    folds = KFold(3, shuffle=True, random_state=0)
    found = []
    for name in features.columns:
        column = features.loc[rows, name]
        values = column.fillna(column.median()) if is_number(column) else pd.factorize(column)[0]
        score = leak_score(tree(random_state=0), np.reshape(values, (-1, 1)), y, folds)
        if score is not None and score >= LEAK_SCORE:
            found.append(f"{name!r} ({score:.3f})")
    if not found:
        return []
    metric = "accuracy" if task == "classification" else "R²"
    return [
        f"alone, column(s) {', '.join(found)} predict {target.name!r} almost perfectly ({metric}):"
        " if one is the answer in disguise (computed from it, or recorded after it), drop it"
    ]
