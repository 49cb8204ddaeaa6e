"""Read a CSV file as it comes, and do the cleaning that a student would do first, saying each step.

Each step appends a line to `notes`: the run prints them, its manifest records them (docs/data.md).
"""

import csv
import re
from pathlib import Path

import pandas as pd

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # UTF-8, then Excel's plain "CSV" on Windows
MISSING = ["?", "", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL"]  # "?": in many public sets
HEAD_BYTES = 1 << 16  # the first 64 KB show the separator, the header and the decimal mark
# A number as a spreadsheet may write it: 1,660 or 12,345.5 with thousands separators, or 3.5.
NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d*)(\.\d+)?([eE][-+]?\d+)?")


class DataError(ValueError):
    """The data cannot be used as it is; the message says what to change."""


def read_csv(path: Path, notes: list[str]) -> pd.DataFrame:
    name = repr(str(path))
    encoding, head = read_head(path, notes)
    lines = head.splitlines()
    separator = max(",;\t", key=lines[0].count)  # spreadsheets in many countries write ;
    if not lines[0].count(separator):  # none of them: columns lined up with spaces
        separator = r"\s+"
    if separator == r"\s+":
        rows = [line.split() for line in lines[:21]]
    else:
        rows = list(csv.reader(lines[:21], delimiter=separator))
    has_header = not looks_like_data(rows)
    if not has_header:
        named = f"the columns are column_1 to column_{len(rows[0])}"
        notes.append(f"the first line holds data, not names: {named}")
    twice = sorted({column for column in rows[0] if column and rows[0].count(column) > 1})
    if has_header and twice:
        problem = f"has more than one column named {', '.join(twice)}"
        raise DataError(f"DATA file {name} {problem}: give each column its own name")
    comma_decimals = separator == ";" and re.search(r"\d,\d", head)  # 3,5 as in Europe
    settings = {"sep": separator, "decimal": "," if comma_decimals else ".", "encoding": encoding}
    if not has_header:
        settings |= {"header": None, "names": [f"column_{i}" for i in range(1, len(rows[0]) + 1)]}
    settings |= {"na_values": MISSING, "keep_default_na": False}
    try:  # low_memory=False reads a column in one piece: one type, no warning of mixed types
        frame = pd.read_csv(path, **settings, low_memory=False)
    except ValueError as error:  # pandas' parse errors, e.g. a row with more cells than the header
        problem = f"is not a readable CSV file ({error})"
        raise DataError(f"DATA file {name} {problem}: export it again, as CSV") from None
    if frame.empty:
        raise DataError(f"DATA file {name} has a header but no rows: export it again, with rows")
    return clean(frame, notes)


def read_head(path: Path, notes: list[str]) -> tuple[str, str]:
    """The file's encoding, checked on every byte, and its first whole lines, up to HEAD_BYTES:
    all that is read before pandas, so that the file is not held twice while pandas reads it."""
    name = repr(str(path))
    if not path.is_file():
        fix = "put it under data/ and pass DATA=data/<file>.csv"
        raise DataError(f"DATA file {name} does not exist: {fix}")
    raw = path.read_bytes()
    if b"\0" in raw[:HEAD_BYTES] or not raw.strip():
        problem = "is not text: export it as CSV" if raw.strip() else "is empty: export it again"
        raise DataError(f"DATA file {name} {problem}")
    encoding = encoding_of(raw, notes)
    head = raw[:HEAD_BYTES].decode(encoding, errors="ignore")  # its last character may be cut
    if len(raw) > HEAD_BYTES and "\n" in head:
        head = head[: head.rindex("\n")]  # and so may its last line
    return encoding, head


def encoding_of(raw: bytes, notes: list[str]) -> str:
    for encoding in ENCODINGS:
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != ENCODINGS[0]:
            notes.append(f"the file is not UTF-8: read as {encoding}; save it as 'CSV UTF-8'")
        return encoding
    raise AssertionError("latin-1 decodes any bytes")


def looks_like_data(rows: list[list[str]]) -> bool:
    """No header line: each column that holds numbers below also holds one in the first line."""
    first, below = rows[0], [row for row in rows[1:] if len(row) == len(rows[0])]
    numeric = [i for i in range(len(first)) if below and all(is_number_text(r[i]) for r in below)]
    if not numeric or not all(is_number_text(first[i]) for i in numeric):
        return False
    values = [float(first[i].replace(",", "")) for i in numeric]
    steps = [later - earlier for earlier, later in zip(values, values[1:], strict=False)]
    counting = len(values) >= 3 and set(steps) == {1}
    return not counting  # 2019, 2020, 2021: names of columns, such as years


def is_number_text(text: str) -> bool:
    has_digit = any(character.isdigit() for character in text)
    return has_digit and NUMBER.fullmatch(text.strip()) is not None


def clean(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Empty unnamed columns out, spaces around names and texts off, numbers in text as numbers."""
    # A comma at the end of each line gives a column without a name or values; a named one stays.
    empty = [name for name in frame.columns if frame[name].isna().all()]
    unnamed = [name for name in empty if str(name).startswith("Unnamed: ")]
    if unnamed:
        why = "a comma at the end of each line"
        notes.append(f"dropped {len(unnamed)} empty column(s) without a name ({why})")
    frame = frame.drop(columns=unnamed)
    names = [str(name).strip().strip("'\"").strip() for name in frame.columns]
    if names != list(frame.columns) and len(set(names)) == len(names):
        notes.append("removed spaces and quotes around column names")
        frame.columns = names
    for name in frame.columns:
        if pd.api.types.infer_dtype(frame[name], skipna=True) == "string":  # not booleans
            frame[name] = clean_text(frame[name], notes)
    return frame


def clean_text(column: pd.Series, notes: list[str]) -> pd.Series:
    text = column.astype("str")  # empty cells stay empty
    stripped = text.str.strip().replace(dict.fromkeys(MISSING, None))
    if not stripped.equals(text):
        merged = text.nunique() - stripped.nunique()
        notes.append(f"removed spaces around the values of {column.name!r}: {merged} merged")
    given = stripped.dropna().unique()  # each different text once, however many rows hold it
    if len(given) and all(is_number_text(value) for value in given):
        if any("," in value for value in given):
            notes.append(f"read {column.name!r} as numbers written with thousands separators")
        return pd.to_numeric(stripped.str.replace(",", ""))
    return stripped
