"""Build and run times of the generated project, measured side by side on a real Docker engine.

Bakes the default project, then measures, in one run and on the same base image:
- naive: `COPY . .` before `pip install`, no cache mount, driven by a common stamp Makefile whose
  recipe never writes its stamp, so that every `make image` runs `docker build`;
- layered pip: requirements installed before the code is copied, pip with a cache mount;
- layered uv: the template's own Dockerfile and Makefile.
Prints a markdown table, and writes it with the machine's facts to benchmarks/RESULTS.md.
See benchmarks/README.md for what each row means. Needs only the standard library, make and Docker.
"""

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASE_IMAGE = "python:3.11-slim"
# A small, pure-Python package: the edit a student makes most often.
ADDED_REQUIREMENT = "six==1.17.0"
GOALS = {"requirements edit": 0.5, "container start": 1.1, "image size": 1.05}

# The same ENV block and venv as the template, so that only the order of the steps differs.
ENV_HEADER = """\
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
ENV PYTHONHASHSEED=0 \\
    PYTHONUNBUFFERED=1 \\
    PYTHONDONTWRITEBYTECODE=1 \\
    CUBLAS_WORKSPACE_CONFIG=:4096:8 \\
    VIRTUAL_ENV=/opt/venv \\
    PATH=/opt/venv/bin:$PATH
"""
NAIVE_DOCKERFILE = (
    ENV_HEADER
    + """\
WORKDIR /app
COPY . .
RUN python -m venv "$VIRTUAL_ENV" && pip install --no-cache-dir -r requirements.txt
CMD ["python", "train.py"]
"""
)

# The template's Dockerfile before it installed with uv.
LAYERED_PIP_DOCKERFILE = (
    ENV_HEADER
    + """\
COPY requirements.txt /tmp/requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip \\
    python -m venv "$VIRTUAL_ENV" && pip install -r /tmp/requirements.txt
RUN useradd --create-home --uid 1000 app
USER 1000:1000
WORKDIR /app
COPY --chown=1000:1000 . .
CMD ["python", "train.py"]
"""
)

# A common pattern: a stamp target whose recipe never writes the stamp, so it always builds.
STAMP_NEVER_WRITTEN_MAKEFILE = """\
IMAGE := {image}

image: .image-built

.image-built: Dockerfile requirements.txt
\t$(DOCKER) build --build-arg BASE_IMAGE=$(BASE_IMAGE) --tag $(IMAGE) .

train: image
\t$(DOCKER) run --rm $(IMAGE) python train.py
"""

# `make train`'s docker run options: the project mounted at /app, as the calling user.
RUN_AS_MAKE_TRAIN = ["run", "--rm", "--init", "-e", "HOME=/tmp", "-w", "/app"]

CACHE_RECORDS = "{{range .BuildCache}}{{.ID}} {{.CacheType}}\n{{end}}"

# Records every docker command that make runs, so that builds are counted, not guessed from timing.
RECORDING_DOCKER = """\
#!/bin/sh
echo "$*" >> "$BENCH_DOCKER_LOG"
exec "$BENCH_REAL_DOCKER" "$@"
"""


@dataclass
class Variant:
    title: str
    path: Path
    layered: bool
    image: str = ""
    seconds: dict[str, list[float]] = field(default_factory=dict)
    builds: dict[str, list[int]] = field(default_factory=dict)
    size_mb: int = 0


class Bench:
    def __init__(self, workdir: Path, docker: str):
        self.docker = docker
        self.run_id = uuid.uuid4().hex[:8]
        # A project name of its own: cleaning up can never touch another project's images.
        self.slug = f"bench_{self.run_id}"
        self.log = workdir / "docker-calls.log"
        recorder = workdir / "docker"
        recorder.write_text(RECORDING_DOCKER)
        recorder.chmod(0o755)
        self.env = {
            **os.environ,
            "DOCKER": str(recorder),
            "BENCH_REAL_DOCKER": docker,
            "BENCH_DOCKER_LOG": str(self.log),
            "DOCKER_BUILDKIT": "1",
            "BASE_IMAGE": BASE_IMAGE,
        }
        self.fresh_values = 0

    def make(self, variant: Variant, measure: str, *args: str) -> None:
        """Time one make command; count the docker builds it ran, and note the image it built."""
        self.log.write_text("")
        start = time.perf_counter()
        done = subprocess.run(
            ["make", *args], cwd=variant.path, env=self.env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(
                f"`make {' '.join(args)}` failed in {variant.path}:\n{done.stdout}{done.stderr}"
            )
        builds = [
            call.split() for call in self.log.read_text().splitlines() if call.startswith("build ")
        ]
        for call in builds:
            variant.image = next(
                call[i + 1] for i, arg in enumerate(call) if arg in ("--tag", "-t")
            )
        variant.seconds.setdefault(measure, []).append(seconds)
        variant.builds.setdefault(measure, []).append(len(builds))

    def start_afresh(self, variant: Variant, layers: bool) -> None:
        """Make the next build start with empty download caches and, with `layers`, rerun every
        build step.

        Cache mounts get ids never used before, and a build argument that every later RUN sees gets
        a new value. (`docker build --no-cache` reruns the steps too, but Docker 20.10's BuildKit
        crashes when such a build runs beside another build of the same steps.)
        """
        self.fresh_values += 1
        value = f"bench-{self.run_id}-{self.fresh_values}"
        dockerfile = variant.path / "Dockerfile"
        text = re.sub(
            r"--mount=type=cache,(?:id=\S+?,)?target=(\S+)",
            rf"--mount=type=cache,id={value}\1,target=\1",
            dockerfile.read_text(),
        )
        if layers:
            text = re.sub(
                r"^(FROM .*\n)(ARG COLD_BUILD=.*\n)?",
                rf"\1ARG COLD_BUILD={value}\n",
                text,
                flags=re.M,
            )
        dockerfile.write_text(text)

    def time_to_first_line(self, variant: Variant) -> None:
        """From `docker run` to train.py's first printed line, run as `make train` runs it; then let
        it finish."""
        user = f"{os.getuid()}:{os.getgid()}"
        mount = f"{variant.path}:/app"
        command = [
            self.docker,
            *RUN_AS_MAKE_TRAIN,
            "--user",
            user,
            "-v",
            mount,
            variant.image,
            "python",
            "train.py",
        ]
        start = time.perf_counter()
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ) as run:
            run.stdout.readline()
            seconds = time.perf_counter() - start
            run.stdout.read()
        if run.returncode != 0:
            sys.exit(f"`{' '.join(command)}` failed")
        variant.seconds.setdefault("start", []).append(seconds)

    def image_mb(self, image: str) -> int:
        size = subprocess.run(
            [self.docker, "image", "inspect", "--format", "{{.Size}}", image],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(size) // 1_000_000

    def cache_mounts(self) -> set[str]:
        """Ids of the builder's cache mounts (pip's and uv's download caches)."""
        listing = subprocess.run(
            [self.docker, "system", "df", "--verbose", "--format", CACHE_RECORDS],
            capture_output=True,
            text=True,
        ).stdout
        return {
            line.split()[0] for line in listing.splitlines() if line.endswith(" exec.cachemount")
        }


def bake(workdir: Path, slug: str) -> Path:
    cookiecutter = shutil.which(
        "cookiecutter", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    if not cookiecutter:
        sys.exit("cookiecutter is not installed: run `make venv` in the repo, then `make bench`")
    subprocess.run(
        [
            cookiecutter,
            "--no-input",
            "--output-dir",
            str(workdir),
            str(REPO),
            f"project_name={slug}",
            "init_git=no",
        ],
        check=True,
        capture_output=True,
    )
    return workdir / slug


def make_variants(baked: Path, slug: str) -> list[Variant]:
    variants = []
    for key, title, layered in [
        ("naive", "naive", False),
        ("pip", "layered pip", True),
        ("uv", "layered uv (default)", True),
    ]:
        path = baked.with_name(f"{slug}-{key}")
        shutil.copytree(baked, path)
        variants.append(Variant(title, path, layered))
    naive, pip, _ = variants
    (naive.path / "Dockerfile").write_text(NAIVE_DOCKERFILE)
    naive.image = f"{slug}:naive"
    (naive.path / "Makefile").write_text(STAMP_NEVER_WRITTEN_MAKEFILE.format(image=naive.image))
    (pip.path / "Dockerfile").write_text(LAYERED_PIP_DOCKERFILE)
    return variants


def measure(bench: Bench, variants: list[Variant], baked: Path, repeat: int) -> None:
    for round_number in range(1, repeat + 1):
        for variant in variants:
            for name in ("requirements.txt", "train.py"):
                shutil.copy2(baked / name, variant.path / name)
            bench.start_afresh(variant, layers=True)
            bench.make(variant, "cold", "image")
            variant.size_mb = bench.image_mb(variant.image)
        for variant in variants:
            bench.make(variant, "no-op", "image")
        for variant in variants:
            with open(variant.path / "train.py", "a") as code:
                code.write(f"# code edit {round_number}\n")
            bench.make(variant, "code edit", "image")
        for variant in variants:
            with open(variant.path / "requirements.txt", "a") as requirements:
                requirements.write(f"{ADDED_REQUIREMENT}  # requirements edit {round_number}\n")
            # Without a cache mount, the naive build always starts with an empty download cache.
            bench.make(
                variant,
                "requirements edit" if variant.layered else "requirements edit, empty cache",
                "image",
            )
        for variant in variants:
            if variant.layered:
                bench.start_afresh(variant, layers=False)
                bench.make(variant, "requirements edit, empty cache", "image")
        for variant in variants:
            bench.time_to_first_line(variant)
        for variant in variants:
            bench.make(variant, "make train", "train")


def seconds(variant: Variant, measure: str) -> float:
    return statistics.median(variant.seconds[measure])


def time_cell(variant: Variant, measure: str, with_builds: bool = False) -> str:
    if measure not in variant.seconds:
        return "–"
    value = seconds(variant, measure)
    cell = f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"
    if with_builds:
        counts = sorted(set(variant.builds[measure]))
        builds = "–".join(str(count) for count in counts)
        cell += f", {builds} build{'' if counts == [1] else 's'}"
    return cell


def ratio(new: float, reference: float) -> str:
    return f"{new / reference:.2f}×"


def paragraph(text: str) -> str:
    """A report's paragraph, its lines wrapped at 100 characters."""
    return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def results_table(variants: list[Variant], base_mb: int) -> str:
    _, pip, uv = variants
    rows = []
    # (measure, label, show the number of builds, show uv ÷ pip): a ratio of two no-ops would only
    # show noise.
    for measure, label, with_builds, compare in [
        ("cold", "cold build ¹", False, True),
        ("no-op", "`make image`, nothing changed", True, False),
        ("code edit", "`make image` after a code edit", True, False),
        (
            "requirements edit",
            f"`make image` after adding `{ADDED_REQUIREMENT}`, warm download cache",
            True,
            True,
        ),
        (
            "requirements edit, empty cache",
            "the same, empty download cache (as without a cache mount)",
            True,
            True,
        ),
        ("start", "container start to train.py's first line", False, True),
        ("make train", "`make train` (one full run)", True, True),
    ]:
        uv_vs_pip = ratio(seconds(uv, measure), seconds(pip, measure)) if compare else ""
        rows.append(
            [label, *(time_cell(variant, measure, with_builds) for variant in variants), uv_vs_pip]
        )
    rows.append(
        [
            f"image size (base image: {base_mb} MB)",
            *(f"{variant.size_mb} MB" for variant in variants),
            ratio(uv.size_mb, pip.size_mb),
        ]
    )
    return markdown_table(["", *(variant.title for variant in variants), "uv ÷ pip"], rows)


def goals_table(variants: list[Variant]) -> str:
    _, pip, uv = variants
    measured = {
        "requirements edit": seconds(uv, "requirements edit") / seconds(pip, "requirements edit"),
        "container start": seconds(uv, "start") / seconds(pip, "start"),
        "image size": uv.size_mb / pip.size_mb,
    }
    rows = [
        [
            goal,
            f"≤ {limit}×",
            f"{measured[goal]:.2f}×",
            "yes" if measured[goal] <= limit else "**no**",
        ]
        for goal, limit in GOALS.items()
    ]
    return markdown_table(["goal: layered uv ÷ layered pip", "limit", "measured", "met"], rows)


def proc_value(path: str, key: str) -> str:
    """The value on the first `key: value` line of a /proc file; empty where there is none."""
    file = Path(path)
    lines = file.read_text().splitlines() if file.exists() else []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), "")


def machine_facts(docker: str, repeat: int, load_before: float, load_after: float) -> list[str]:
    cpu = proc_value("/proc/cpuinfo", "model name") or platform.machine()
    memory_gib = int((proc_value("/proc/meminfo", "MemTotal") or "0").split()[0]) / 2**20
    engine = subprocess.run(
        [docker, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True
    )
    dockerfile = (REPO / "{{cookiecutter.project_slug}}" / "Dockerfile").read_text()
    uv_version = re.search(r"uv==(\S+)", dockerfile)
    engine_version = engine.stdout.strip() or "unknown"
    uv_release = uv_version.group(1) if uv_version else "unknown"
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- CPU: {cpu}, {os.cpu_count()} cores; memory: {memory_gib:.0f} GiB",
        f"- Docker engine {engine_version}, BuildKit; base image `{BASE_IMAGE}`",
        f"- uv {uv_release}; each time is the median of {repeat} run(s)",
        f"- load average (1 min) before and after: {load_before:.2f}, {load_after:.2f}",
    ]


def report(variants: list[Variant], base_mb: int, facts: list[str]) -> str:
    return "\n".join(
        [
            "# Benchmark results",
            "",
            "Written by `make bench` (`benchmarks/run.py`); what each row means:"
            " [README.md](README.md).",
            "",
            *facts,
            "",
            results_table(variants, base_mb),
            "",
            paragraph(
                "¹ Cold: every build step runs anew, with empty pip and uv download caches;"
                " the base image is already on the machine. The naive column is driven by a"
                " Makefile that always builds, the layered ones by the template's."
            ),
            "",
            goals_table(variants),
            "",
        ]
    )


def clean_up(bench: Bench, cache_mounts_before: set[str]) -> None:
    """Remove the images this run built, and the download caches it filled."""
    listing = [bench.docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", bench.slug]
    images = subprocess.run(listing, capture_output=True, text=True).stdout.split()
    subprocess.run([bench.docker, "image", "rm", "--force", *images], capture_output=True)
    for cache_id in bench.cache_mounts() - cache_mounts_before:
        subprocess.run(
            [bench.docker, "builder", "prune", "--force", "--filter", f"id={cache_id}"],
            capture_output=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each measure; the table shows the median"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the baked projects, their images and caches"
    )
    parser.add_argument(
        "--output", type=Path, default=REPO / "benchmarks" / "RESULTS.md", help="where to write"
    )
    args = parser.parse_args()

    docker = os.environ.get("DOCKER") or (
        "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
    )
    if (
        subprocess.run([docker, "image", "inspect", BASE_IMAGE], capture_output=True).returncode
        != 0
    ):
        sys.exit(f"the base image {BASE_IMAGE} is missing: run `make docker` first")
    workdir = Path(tempfile.mkdtemp(prefix="repro-bench-"))
    bench = Bench(workdir, docker)
    cache_mounts_before = bench.cache_mounts()
    load_before = os.getloadavg()[0]
    print(
        f"Baking {bench.slug} into {workdir}; this takes a few minutes per --repeat.",
        file=sys.stderr,
    )
    baked = bake(workdir, bench.slug)
    variants = make_variants(baked, bench.slug)
    try:
        measure(bench, variants, baked, args.repeat)
        facts = machine_facts(docker, args.repeat, load_before, os.getloadavg()[0])
        text = report(variants, bench.image_mb(BASE_IMAGE), facts)
    finally:
        if args.keep:
            print(f"Kept {workdir} and its images.", file=sys.stderr)
        else:
            clean_up(bench, cache_mounts_before)
            shutil.rmtree(workdir, ignore_errors=True)
    print(text)
    args.output.write_text(text)
    print(f"Written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
