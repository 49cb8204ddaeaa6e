"""How many students one tracking server takes: concurrent clients write to the lab tools' TrackIO
server.

Bakes the project with the lab tools, starts its server with `make tracking-server` (TrackIO's own
server, in the project's image), then, for each number of clients, starts them all at once: each
sends its steps one row per request, as TrackIO does for a run that logs less often than its 0.5 s
batching, in TrackIO's own format. A request that fails is sent again, with the same log_id, as
TrackIO resends its batches; the server keeps a row once. Then it counts the rows that the server
stored, and samples the server's memory and CPU meanwhile. Prints a markdown table, and writes it
with the machine's facts to benchmarks/TRACKING_LOAD.md.
"""

import argparse
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import trackio
from trackio.remote_client import WRITE_TOKEN_HEADER

REPO = Path(__file__).resolve().parents[1]
PROJECT = "tracking_load"  # its own image and server, so that it touches no other project's
DOCKER = os.environ.get("DOCKER", "docker")
INTRO = """# The tracking server under load

`make bench-tracking` (benchmarks/tracking_load.py) starts the lab tools' TrackIO server with `make
tracking-server`, then lets N clients write to it at once, each its own run of S steps, one row \
per request
(what a run that logs less often than every 0.5 s sends), as fast as the server answers. A failed \
request is
sent again, as TrackIO does. *rows lost*: rows sent but not in the server's store at the end. \
*rows/s*: the
rows stored per second of wall time, which is the server's write rate, since each request holds \
one row.
The server's memory and CPU are the peaks of `docker stats` samples, about one a second.
"""
ATTEMPTS = 10  # per request; between them TrackIO's own back-off, doubling from 0.5 s up to 30 s
SETTLE_SECONDS = 30  # how long the server may take to write what it has accepted


@dataclass
class Server:
    url: str  # as the clients reach it
    token: str
    project: str
    store: Path  # the server's SQLite file, read once the clients are done
    container: str


@dataclass
class Level:
    clients: int
    steps: int
    seconds: float  # from the first client's start to the last one's end
    stored: int
    requests: int  # successful ones
    retries: int
    latencies: list[float]
    peak_memory_mb: float
    peak_cpu_percent: float

    @property
    def lost(self) -> int:
        return self.clients * self.steps - self.stored


def send(client: httpx.Client, server: Server, entry: dict, tally: dict) -> None:
    """One row, as TrackIO's client posts it; sent again after a failure, as TrackIO resends its
    batches."""
    payload = {"args": [], "kwargs": {"logs": [entry], "hf_token": None}}
    for attempt in range(ATTEMPTS):
        started = time.monotonic()
        try:
            response = client.post(f"{server.url}/api/bulk_log", json=payload)
            response.raise_for_status()
        except httpx.HTTPError:
            tally["retries"] += 1
            time.sleep(min(0.5 * 2**attempt, 30))
            continue
        tally["latencies"].append(time.monotonic() - started)
        return


def one_client(server: Server, run: str, steps: int) -> dict:
    """A run that logs its steps one by one. It keeps its connection open: TrackIO's client opens
    one per request, which costs the client time that, on this machine, the server would lose."""
    tally = {"retries": 0, "latencies": []}
    with httpx.Client(headers={WRITE_TOKEN_HEADER: server.token}, timeout=60) as client:
        for step in range(steps):
            entry = {
                "project": server.project,
                "run": run,
                "step": step,
                "metrics": {"loss": 1 / (step + 1)},
            }
            send(client, server, entry | {"log_id": uuid.uuid4().hex, "config": None}, tally)
    return tally


def megabytes(size: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)\s*([KMG]i?B|B)", size.strip()).groups()
    return float(number) * {"B": 1e-6, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}.get(unit, 1)


def sample_server(
    container: str, stop: threading.Event, samples: list[tuple[float, float]]
) -> None:
    """The server's memory (MB) and CPU (%) from docker stats, until told to stop."""
    while not stop.is_set():
        result = subprocess.run(
            [DOCKER, "stats", "--no-stream", "--format", "{{.MemUsage}}|{{.CPUPerc}}", container],
            capture_output=True,
            text=True,
        )
        if result.returncode == 0 and "|" in result.stdout:
            memory, cpu = result.stdout.strip().split("|")
            samples.append((megabytes(memory.split("/")[0]), float(cpu.rstrip("%"))))


def stored_rows(server: Server, prefix: str, expected: int) -> int:
    """The rows of runs named prefix-*, once the server has written them all or stopped adding
    any."""
    count, deadline = -1, time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{server.store}?mode=ro", uri=True) as store:
            now = store.execute(
                "SELECT COUNT(*) FROM metrics WHERE run_name LIKE ?", (f"{prefix}-%",)
            ).fetchone()[0]
        if now in (expected, count):
            return now
        count = now
        time.sleep(2)
    return count


def load(server: Server, clients: int, steps: int) -> Level:
    """Every client at once, each with its own run; what the server stored, and what it took to
    store it."""
    prefix = f"load{clients}x{steps}-{uuid.uuid4().hex[:8]}"
    stop, samples = threading.Event(), []
    sampler = threading.Thread(target=sample_server, args=(server.container, stop, samples))
    sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        tallies = list(
            pool.map(lambda index: one_client(server, f"{prefix}-{index}", steps), range(clients))
        )
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    latencies = [latency for tally in tallies for latency in tally["latencies"]]
    return Level(
        clients=clients,
        steps=steps,
        seconds=seconds,
        stored=stored_rows(server, prefix, clients * steps),
        requests=len(latencies),
        retries=sum(tally["retries"] for tally in tallies),
        latencies=latencies,
        peak_memory_mb=max((memory for memory, _ in samples), default=float("nan")),
        peak_cpu_percent=max((cpu for _, cpu in samples), default=float("nan")),
    )


def percentile(values: list[float], share: float) -> float:
    return (
        statistics.quantiles(values, n=100)[int(share * 100) - 1]
        if len(values) > 1
        else float("nan")
    )


def table(levels: list[Level]) -> str:
    lines = [
        "| clients × steps | rows lost | wall time | rows/s = requests/s | request p50 / p95 "
        "| retries | server memory, peak | server CPU, peak |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        median_ms = 1000 * percentile(level.latencies, 0.5)
        p95_ms = 1000 * percentile(level.latencies, 0.95)
        lines.append(
            f"| {level.clients} × {level.steps} | {level.lost} | {level.seconds:.1f} s | "
            f"{level.stored / level.seconds:.0f} | {median_ms:.0f} / "
            f"{p95_ms:.0f} ms | {level.retries} | {level.peak_memory_mb:.0f} MB | "
            f"{level.peak_cpu_percent:.0f}% |"
        )
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make(project: Path, *args: str) -> str:
    result = subprocess.run(["make", *args], cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(
            f"error: make {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return result.stdout


def start_server(folder: Path) -> tuple[Path, Server]:
    answers = ["project_name=Tracking Load", "include_lab_tools=yes", "init_git=no"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(folder),
            str(REPO),
            *answers,
        ],
        check=True,
        capture_output=True,
    )
    project, port = folder / PROJECT, free_port()
    make(project, "image")
    output = make(project, "tracking-server", f"PORT={port}")
    token = re.search(r"^Write token: (\S+)", output, flags=re.MULTILINE).group(1)
    store = project / ".trackio" / "server" / f"{PROJECT}.db"
    return project, Server(f"http://127.0.0.1:{port}", token, PROJECT, store, f"{PROJECT}-tracking")


def machine() -> str:
    docker = subprocess.run(
        [DOCKER, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True
    )
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Docker {docker.stdout.strip()}, TrackIO {trackio.__version__}; "
        "the clients run on the same machine"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "TRACKING_LOAD.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tracking-load-") as folder:
        project, server = start_server(Path(folder))
        try:
            levels = []
            for clients in args.clients:
                levels.append(load(server, clients, args.steps))
                print(table(levels).splitlines()[-1], flush=True)
        finally:
            make(project, "tracking-server-stop")
            subprocess.run([DOCKER, "network", "rm", f"{PROJECT}-tracking"], capture_output=True)
            subprocess.run(["make", "clean"], cwd=project, capture_output=True)
    text = f"Measured on {time.strftime('%Y-%m-%d')}: {machine()}.\n\n{table(levels)}\n"
    print(text)
    args.output.write_text(f"{INTRO}\n{text}")


if __name__ == "__main__":
    main()
