"""What an epoch of the PyTorch project's train.py costs, against a plain training loop.

Bakes the PyTorch project and, in the torch virtualenv that `make test` keeps in build/torch-venv,
times in one process, in turn: train.py's own `train` with EPOCHS=1 and with EPOCHS=1+N (the
difference is N epochs, the curve's scoring and logging included), and a plain loop of N epochs over
the same seeded DataLoader, model and optimiser, with the same determinism flags and threads. Writes
benchmarks/EPOCH.md.

    .venv/bin/python benchmarks/epoch.py
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import markdown_table, paragraph, proc_value

REPO = Path(__file__).resolve().parent.parent
TORCH_PYTHON = REPO / "build" / "torch-venv" / "bin" / "python"
# Run by the torch virtualenv's Python in the baked project's folder: prints seconds per epoch.
TIMING = """
import statistics, sys, tempfile, time
from dataclasses import replace
import torch, trackio
from torch.utils.data import TensorDataset
import train
from config import load_config
from data import load_dataset, preprocessing
from seeding import seed_everything

epochs, repeat, workers = (int(value) for value in sys.argv[1:4])
config = replace(load_config(), num_workers=workers)
seed_everything(config.seed)
torch.set_num_threads(config.threads)
dataset = load_dataset(config.data, config.target)
device = torch.device("cpu")
trackio.init(project="epoch", name="epoch", auto_log_cpu=False, auto_log_gpu=False)

def project(count):
    start = time.perf_counter()
    train.train(replace(config, epochs=count), dataset, device)
    return time.perf_counter() - start

def plain():
    x = torch.as_tensor(preprocessing().fit_transform(dataset.features), dtype=torch.float32)
    y = torch.as_tensor(dataset.target.to_numpy())
    model = train.build_model(x.shape[1], 10, config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_function = torch.nn.CrossEntropyLoss()
    # As many rows as train.py's.
    size = int(len(y) * (1 - config.test_size) * (1 - config.val_size))
    loader = train.make_loader(TensorDataset(x[:size], y[:size]), config)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for features, answers in loader:
            optimiser.zero_grad()
            loss_function(model(features), answers).backward()
            optimiser.step()
    return time.perf_counter() - start

with tempfile.TemporaryDirectory():
    ours = [(project(1 + epochs) - project(1)) / epochs for _ in range(repeat)]
    theirs = [plain() / epochs for _ in range(repeat)]
trackio.finish()
print(statistics.median(ours), statistics.median(theirs))
"""


def bake(output: Path) -> Path:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"
    command = [
        cookiecutter,
        "--no-input",
        "-o",
        str(output),
        str(REPO),
        "framework=pytorch",
        "init_git=no",
    ]
    subprocess.run(command, check=True, capture_output=True)
    return output / "my_project"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "EPOCH.md")
    args = parser.parse_args()
    if not TORCH_PYTHON.exists():
        sys.exit("build/torch-venv is missing: `make test` makes it (tests/test_pytorch.py)")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        project = bake(Path(scratch))
        env = {**os.environ, "PYTHONHASHSEED": "0", "TRACKIO_DIR": str(Path(scratch) / "trackio")}
        for workers in (0, 2):
            command = [TORCH_PYTHON, "-c", TIMING, str(args.epochs), str(args.repeat), str(workers)]
            done = subprocess.run(
                command, cwd=project, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                sys.exit(f"the timing failed:\n{done.stderr[-3000:]}")
            ours, plain = (float(value) for value in done.stdout.split()[-2:])
            rows.append(
                [
                    str(workers),
                    f"{plain * 1000:.1f} ms",
                    f"{ours * 1000:.1f} ms",
                    f"{ours / plain:.2f}×",
                ]
            )
    cpu = proc_value("/proc/cpuinfo", "model name")
    date = time.strftime("%Y-%m-%d %H:%M %Z")
    text = "\n".join(
        [
            "# What an epoch costs, in the PyTorch project",
            "",
            paragraph(
                "Written by `benchmarks/epoch.py`: an epoch of the PyTorch project's `train.py`"
                " on the digits (the curve's scoring and logging included) against a plain loop"
                " over the same seeded DataLoader, model and optimiser, with the same determinism"
                " flags and one CPU thread, in one process."
            ),
            "",
            f"- date: {date}; CPU: {cpu}, {os.cpu_count()} cores; torch on the CPU",
            f"- each figure: the median of {args.repeat} times {args.epochs} epochs",
            "",
            markdown_table(["NUM_WORKERS", "plain loop", "train.py", "train.py ÷ plain"], rows),
            "",
        ]
    )
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
