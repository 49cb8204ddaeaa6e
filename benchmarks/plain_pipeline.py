"""The yardstick of benchmarks/training.py: the seeded pipeline that a student writes by hand, with
the generated project's preparation of the columns, one fit and one score, and nothing else.

    python benchmarks/plain_pipeline.py data.csv label random_forest
"""

import sys

import pandas as pd
from sklearn.compose import make_column_selector as select
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC

SEED = 42
MODELS = {
    "random_forest": lambda: RandomForestClassifier(100, random_state=SEED),
    "logistic_regression": lambda: LogisticRegression(max_iter=2000, random_state=SEED),
    "svm": lambda: SVC(random_state=SEED),
}


def main() -> None:
    path, target, model_type = sys.argv[1:4]
    frame = pd.read_csv(path)
    y = frame.pop(target)
    text = frame.select_dtypes(exclude="number").columns
    frame[text] = frame[text].astype(object)  # the imputer and the encoder take Python objects
    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    missing = SimpleImputer(strategy="constant", fill_value="missing")
    words = make_pipeline(missing, OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    columns = (numbers, select(dtype_include="number")), (words, select(dtype_exclude="number"))
    model = make_pipeline(make_column_transformer(*columns), MODELS[model_type]())
    split = train_test_split(frame, y, test_size=0.2, random_state=SEED, stratify=y)
    x_train, x_test, y_train, y_test = split
    model.fit(x_train, y_train)
    print(f"test accuracy {model.score(x_test, y_test)!r}")


if __name__ == "__main__":
    main()
