"""Run each notebook twice, each time in a fresh kernel, and compare what every cell showed.
`make verify-notebooks` runs it on notebooks/; docs/notebooks.md explains what is compared."""

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

CELL_TIMEOUT = 600  # seconds one cell may run
# Where Python put an object, and when a cell ran, say nothing about the result: they are masked.
MASKS = [
    (re.compile(r"0x[0-9a-fA-F]{8,}"), "0x<address>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?"), "<timestamp>"),
]
SHOWN = 70  # characters of each output in a report line


class NotebookFailed(Exception):
    """The notebook could not run to its end; the message says where."""


def masked(text: str) -> str:
    for pattern, placeholder in MASKS:
        text = pattern.sub(placeholder, text)
    return text


def cell_outputs(cell) -> str:
    """What a code cell showed: its printed text, stream by stream, then its results in every form
    Jupyter keeps (text, HTML, a picture's bytes). Streams are joined: the kernel may split them."""
    streams = {}
    shown = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            streams[output.name] = streams.get(output.name, "") + output.text
        elif output.output_type == "error":
            shown.append(f"{output.ename}: {output.evalue}")
        else:
            shown += [f"{kind}: {value}" for kind, value in sorted(output.get("data", {}).items())]
    printed = "".join(f"{name}: {text}" for name, text in sorted(streams.items()))
    return masked(printed + "\n".join(shown))


def execute(path: Path, store: Path) -> list:
    """The notebook's cells after one run in a new kernel, started in the notebook's folder, as
    JupyterLab starts it. Its runs go to a store of their own: checks stay off the dashboard."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["TRACKIO_DIR"] = str(store / "trackio")
    os.environ["OUTPUT_DIR"] = str(store / "outputs")
    client = NotebookClient(
        notebook,
        # The kernel's ports are on the container's own loopback, which nothing else reaches: no
        # warning about them, in the kernel's log, drowns the check's lines.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        timeout=CELL_TIMEOUT,
        allow_errors=True,
        coalesce_streams=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except (CellTimeoutError, DeadKernelError) as error:
        reason = f"the kernel stopped, or a cell ran over {CELL_TIMEOUT} s: {error}"
        raise NotebookFailed(reason) from None
    for number, cell in enumerate(notebook.cells, start=1):
        errors = [output for output in cell.get("outputs", []) if output.output_type == "error"]
        if errors:
            error = errors[0]
            raise NotebookFailed(f"cell {number} stopped with {error.ename}: {error.evalue}")
    return notebook.cells


def first_line(cell) -> str:
    return next((line for line in cell.source.splitlines() if line.strip()), "")[:40]


def compare(path: Path) -> str | None:
    """None when two runs showed the same in every cell; otherwise one line that names the first
    cell that differed, with both outputs."""
    with tempfile.TemporaryDirectory() as scratch:
        runs = [execute(path, Path(scratch) / name) for name in ("first", "second")]
    differing = [
        (number, cell, cell_outputs(cell), cell_outputs(again))
        for number, (cell, again) in enumerate(zip(*runs, strict=True), start=1)
        if cell.cell_type == "code" and cell_outputs(cell) != cell_outputs(again)
    ]
    if not differing:
        return None
    number, cell, first, second = differing[0]
    more = f" ({len(differing) - 1} more cells differ)" if len(differing) > 1 else ""
    shown = f"first run {first[:SHOWN]!r}, second run {second[:SHOWN]!r}"
    return f"{path}: cell {number} ({first_line(cell)!r}) differs: {shown}{more}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder of the notebooks, e.g. notebooks")
    notebooks = sorted(parser.parse_args().folder.glob("*.ipynb"))
    if not notebooks:
        sys.exit("error: no notebook (*.ipynb) in that folder: add one, or name another folder")
    failed = 0
    for path in notebooks:
        try:
            problem = compare(path)
        except NotebookFailed as error:
            problem = f"{path}: {error}"
        if problem:
            failed += 1
            print(f"error: {problem}", file=sys.stderr)
        else:
            print(f"OK: {path} showed the same outputs in two fresh kernels")
    if failed:
        total = len(notebooks)
        sys.exit(f"error: {failed} of {total} notebooks did not reproduce (docs/notebooks.md)")


if __name__ == "__main__":
    main()
