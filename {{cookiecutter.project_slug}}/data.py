"""Load the data set: scikit-learn's digits (offline, built in) or a CSV file of your own."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import load_digits

from manifest import sha256_of_file


class DataError(ValueError):
    """The data file is missing or does not have the shape the run needs."""


@dataclass
class Dataset:
    features: np.ndarray
    labels: np.ndarray
    facts: dict  # which data this is, recorded in the run's manifest


def load_dataset(path: str, target: str) -> Dataset:
    if not path:
        digits = load_digits()
        facts = {"name": "digits", "loader": "sklearn.datasets.load_digits", "version": sklearn.__version__}
        return Dataset(digits.data, digits.target, facts)
    return _load_csv(Path(path), target)


def _load_csv(path: Path, target: str) -> Dataset:
    if not path.is_file():
        raise DataError(f"DATA file {str(path)!r} does not exist; put it under data/ and pass DATA=data/<file>.csv")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"DATA file {str(path)!r} is not a readable CSV file: {error}") from None
    if target not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        raise DataError(f"TARGET column {target!r} is not in {path}; its columns are: {columns}")
    features = frame.drop(columns=[target])
    non_numeric = [str(column) for column in features.columns if not pd.api.types.is_numeric_dtype(features[column])]
    if non_numeric:
        raise DataError(f"DATA columns must be numeric; encode these first: {', '.join(non_numeric)}")
    if frame.isna().any().any():
        raise DataError(f"DATA file {str(path)!r} has empty cells; fill or drop them first")
    if frame[target].nunique() < 2:
        raise DataError(f"TARGET column {target!r} needs at least two classes")
    return Dataset(
        features.to_numpy(dtype=float), frame[target].to_numpy(), {"file": str(path), "sha256": sha256_of_file(path)}
    )
