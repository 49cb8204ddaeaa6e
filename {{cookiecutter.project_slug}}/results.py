"""Runs side by side (`make compare`), and a run handed in for grading (`make submit RUN=<name>`):
`python results.py compare`, `python results.py submit NAME`."""

import trackio_dir  # noqa: F401  first: the project's TrackIO store, before TrackIO is imported

# isort: split
import argparse
import contextlib
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import trackio

import sources
import store
from runs import RESULTS_DIR, output_dir, recorded_runs
from verify import reproduce

PROJECT = "{{ cookiecutter.project_slug }}"
# The evidence, never the model; the data travels too unless everyone can fetch it (sources.py).
HANDED_IN = ("manifest.json", "metrics.json", "predictions.csv")


def main_metric(metrics: dict) -> float:
    return metrics.get("test_accuracy", metrics.get("test_r2", float("-inf")))


def table(manifests: list[dict]) -> str:
    """Markdown, best run first: the config values that differ between runs, the metrics, the
    fingerprint and whether the tree was dirty."""
    configs = [manifest["config"] for manifest in manifests]
    keys = dict.fromkeys(key for config in configs for key in config if key != "run_name")
    differing = [
        key for key in keys if len({json.dumps(config.get(key)) for config in configs}) > 1
    ]
    names = {key for manifest in manifests for key in manifest["result"]["metrics"]}
    metrics = sorted(names, key=lambda key: (not key.startswith("test_"), key))  # test scores first
    rows = [["run", *differing, *metrics, "fingerprint", "dirty"]]
    for manifest in sorted(
        manifests, key=lambda manifest: -main_metric(manifest["result"]["metrics"])
    ):
        result = manifest["result"]
        dirty = {True: "yes", False: "no"}.get(manifest["code"]["dirty"], "not in git")
        scores = [
            f"{result['metrics'][key]:.4f}" if key in result["metrics"] else "" for key in metrics
        ]
        rows.append([manifest["run"], *(manifest["config"].get(key) for key in differing), *scores])
        rows[-1] += [result["fingerprint"][:12], dirty]
    lines = [
        "| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows
    ]
    return "\n".join([lines[0], "|" + "---|" * len(rows[0]), *lines[1:]]) + "\n"


def compare() -> int:
    folders = recorded_runs().values()
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in folders]
    if not manifests:
        sys.exit("error: there is no run to compare yet in outputs/ or results/: make train first")
    text = f"# Runs of {PROJECT}, best first\n\n{table(manifests)}"
    print(text)
    output_dir().mkdir(exist_ok=True)
    path = output_dir() / "compare.md"
    path.write_text(text)
    store.check(PROJECT)
    # One run named "compare" holds the reports: the dashboard shows them under Alerts & Reports.
    quiet = {"auto_log_cpu": False, "auto_log_gpu": False}
    with contextlib.redirect_stdout(io.StringIO()):  # TrackIO's own words would bury the table
        trackio.init(project=PROJECT, name="compare", resume="allow", **quiet)
        trackio.log({"reports/compare": trackio.Markdown(text)})
        trackio.finish()
    print(f"Also in {path}, and on the dashboard's Reports page (run 'compare').")
    return 0


def submit(run_name: str) -> int:
    """Copy the evidence of a committed run that reproduces into results/<run>/, for git."""
    folder = output_dir() / run_name
    target = RESULTS_DIR / run_name
    if not run_name or not (folder / "manifest.json").is_file():
        made = sorted(path.parent.name for path in output_dir().glob("[!.]*/manifest.json"))
        runs = ", ".join(made) or "none"
        sys.exit(f"error: no run {run_name!r} in outputs/ to hand in: RUN= names one of {runs}")
    if target.exists():
        again = "remove it first to hand the run in again"
        sys.exit(f"error: results/{run_name} is already handed in: {again}")
    manifest = json.loads((folder / "manifest.json").read_text())
    dirty = manifest["code"]["dirty"]
    if dirty is not False:
        where = "uncommitted changes" if dirty else "code outside git"
        again = "commit, train again, and hand in the new run"
        sys.exit(f"error: run {run_name} was made from {where}: {again}")
    data = sources.to_hand_in(manifest)  # a course data set, or built-in data, travels by name only
    with tempfile.TemporaryDirectory() as scratch:
        if reproduce(run_name, Path(scratch)) != 0:
            sys.exit(
                f"error: run {run_name} does not reproduce (see above), so it cannot be handed in"
            )
    # Renamed when complete: no half-copied hand-in.
    partial = target.with_name(f".partial-{run_name}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name in HANDED_IN:
        shutil.copy2(folder / name, partial / name)
    if data:
        (partial / data).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sources.PROJECT_DIR / data, partial / data)
    partial.rename(target)
    carried = f", with its data {data}" if data else ""
    commit = f"git add results && git commit -m 'Hand in {run_name}'"
    print(f"Handed in as results/{run_name}/{carried}. Now commit it: {commit}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("compare", help="the recorded runs side by side, best first")
    handing_in = commands.add_parser("submit", help="hand in a run that reproduces")
    handing_in.add_argument("run", metavar="NAME", nargs="?", default="", help="the run to hand in")
    arguments = parser.parse_args()
    if arguments.command == "compare":
        return compare()
    return submit(arguments.run)


if __name__ == "__main__":
    sys.exit(main())
