"""Sweeps on Slurm: one job array, one task per combination of the config values given.

python scripts/sweep.py plan SWEEP_DIR IMAGE PROJECT_DIR RUNTIME VAR...
    writes SWEEP_DIR/: grid.tsv (one line per task), tasks/<index>.env (each task's settings)
    and sweep.sbatch. Each VAR (SEED, MODEL_TYPE, ...) is read from the environment; a value
    with spaces, such as SEED="1 2 3", is an axis of the grid. Runs in the image, as
    `make sweep` calls it.
python scripts/sweep.py status SWEEP_DIR
    how each task is doing, and the log of each failed one. Runs on the cluster's login node,
    so it needs only Python 3.7 or newer and its standard library.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

# The facts that scripts/run-facts.sh reads on the host for each run's manifest: every task
# gets the submitting host's.
RUN_FACTS = (
    "GIT_COMMIT",
    "GIT_CODE_TREE",
    "GIT_DIRTY",
    "GIT_DIFF_SHA256",
    "IMAGE",
    "IMAGE_ID",
    "IMAGE_DIGEST",
)

SBATCH = """\
#!/bin/bash
# Sweep {sweep} of {project}: {count} tasks, one per line of grid.tsv, written by `make sweep`.
# Each task runs the same image with its own settings (tasks/<index>.env), writes
# outputs/{sweep}-<index>/ and logs/<index>.log, and leaves its exit status in status/<index>
# for `make sweep-status`.
#SBATCH --job-name={project}-{sweep}
#SBATCH --array=0-{last}
#SBATCH --cpus-per-task=1
#SBATCH --chdir={project_dir}
#SBATCH --output={project_dir}/{sweep_dir}/logs/%a.log

# docker by default; where the cluster has no Docker daemon:
# sbatch --export=ALL,RUNTIME=apptainer (or podman).
RUNTIME=${{RUNTIME:-{runtime}}}
task=$SLURM_ARRAY_TASK_ID
settings={sweep_dir}/tasks/$task.env
# What sends the points that a tracking server did not take, for a run's last line to name.
SYNC_COMMAND={sync_command}

# How a task's container runs, and why: confined as make train's is.
run=(--rm)  # gone when it ends: a task keeps only what it writes to the project
run+=(--init)  # scancel's SIGTERM reaches Python, which ends the run cleanly
run+=(--user "$(id -u):$(id -g)" -e HOME=/tmp)  # as you: what it writes is yours
run+=(--cap-drop=ALL)  # no Linux capabilities: training needs none
run+=(--security-opt=no-new-privileges)  # and nothing inside can gain any
run+=(--read-only --tmpfs /tmp)  # the image stays as built; scratch space in /tmp
run+=(--pids-limit=1024)  # a runaway loop of processes cannot take the node
run+=(-v "$PWD:/app" -w /app)  # the project, on the file system that the nodes share
run+=(--env-file "$settings")  # the task's settings
run+=(-e TRACKIO_SERVER_URL -e TRACKIO_WRITE_TOKEN)  # where the runs go, and the key
run+=(-e SYNC_COMMAND="$SYNC_COMMAND")  # what sends the points that the server did not take
run+=(${{NETWORK:+--network "$NETWORK"}})  # the tracking server's network, if named

case $RUNTIME in
docker | podman)
  # Attached, so that scancel's SIGTERM reaches the container through the client.
  "$RUNTIME" run "${{run[@]}}" {image} python train.py
  ;;
apptainer)
  # Apptainer runs as you, with no new privileges, and mounts the image read-only by design.
  # It pulls from a registry: `make push` first, so that the digest names the exact image.
  export APPTAINERENV_TRACKIO_SERVER_URL=${{TRACKIO_SERVER_URL:-}}
  export APPTAINERENV_TRACKIO_WRITE_TOKEN=${{TRACKIO_WRITE_TOKEN:-}}
  export APPTAINERENV_SYNC_COMMAND=$SYNC_COMMAND
  apptainer exec --cleanenv --env-file "$settings" --bind "$PWD:/app" --pwd /app \\
    docker://{image} python train.py
  ;;
*)
  echo "error: RUNTIME must be docker, podman or apptainer; got '$RUNTIME'" >&2
  false
  ;;
esac
status=$?
echo "$status" >"{sweep_dir}/status/$task"
exit "$status"
"""


def grid(names: list[str], environ=os.environ) -> list[dict]:
    """Every combination of the values given, in the order given:
    SEED="1 2" MODEL_TYPE="a b" is 4 tasks."""
    axes = {name: environ[name].split() for name in names if environ.get(name, "").strip()}
    combinations = itertools.product(*axes.values())
    return [dict(zip(axes, values, strict=True)) for values in combinations]


def config_settings(names: list[str]) -> list[str]:
    """The settings of config.py among those given to make, in its order; each task names its
    own run."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from config import Config

    settings = [field.name.upper() for field in fields(Config) if field.name != "run_name"]
    return [name for name in settings if name in names]


def task_settings(sweep_dir: Path, index: int, settings: dict) -> dict:
    """What tasks/<index>.env holds: the task's own values, its run's name and store, and what
    the submitting host knows."""
    # One TrackIO store per task: many writers on a cluster's network file system would corrupt
    # one SQLite file. A shared tracking server (TRACKIO_SERVER_URL) gathers them instead.
    store = f"/app/{sweep_dir}/trackio/{index}"
    task = {**settings, "RUN_NAME": f"{sweep_dir.name}-{index}", "TRACKIO_DIR": store}
    task.setdefault("GROUP", sweep_dir.name)  # the sweep's runs fold together on the dashboard
    for name in RUN_FACTS:
        task[name] = os.environ.get(name, "")
    return task


def plan(sweep_dir: Path, image: str, project_dir: str, runtime: str, names: list[str]) -> None:
    if sweep_dir.exists():
        sys.exit(f"error: sweep {sweep_dir.name} exists already: choose another name with SWEEP=")
    tasks = grid(config_settings(names))
    digest = os.environ.get("IMAGE_DIGEST", "")
    if runtime == "apptainer" and not digest:
        push = "run make push REGISTRY=... first"
        sys.exit(f"error: RUNTIME=apptainer pulls the image from a registry: {push}")
    for folder in ("tasks", "logs", "status", "trackio"):
        (sweep_dir / folder).mkdir(parents=True)
    lines = ["index\t" + "\t".join(tasks[0])]
    for index, settings in enumerate(tasks):
        task = task_settings(sweep_dir, index, settings)
        env_file = "".join(f"{key}={value}\n" for key, value in task.items())
        (sweep_dir / "tasks" / f"{index}.env").write_text(env_file)
        lines.append(f"{index}\t" + "\t".join(settings.values()))
    (sweep_dir / "grid.tsv").write_text("\n".join(lines) + "\n")
    project = image.split(":")[0]
    script = SBATCH.format(
        sweep=sweep_dir.name,
        project=project,
        count=len(tasks),
        last=len(tasks) - 1,
        project_dir=project_dir,
        sweep_dir=sweep_dir,
        runtime=runtime,
        sync_command=shlex.quote(os.environ.get("SYNC_COMMAND", "")),
        # Pushed images are named by digest, so that every node runs the same bytes, pulling
        # them if need be.
        image=digest or image,
    )
    (sweep_dir / "sweep.sbatch").write_text(script)
    axes = ", ".join(tasks[0]) or "the default config"
    print(f"Sweep {sweep_dir.name}: {len(tasks)} tasks over {axes}")


def queue_states(job_id: str) -> dict[str, str]:
    """index -> Slurm state of the tasks still queued or running; finished tasks leave the queue."""
    try:
        result = subprocess.run(
            ["squeue", "--noheader", "--array", "--jobs", job_id, "--format", "%K %T"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return dict(line.split(maxsplit=1) for line in lines)


def last_error(log: Path) -> str:
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or ["(empty log)"])[-1]


def status(sweep_dir: Path) -> None:
    if not (sweep_dir / "grid.tsv").is_file():
        sys.exit(f"error: no sweep in {sweep_dir}: name one with SWEEP=, from those in sweeps/")
    header, *rows = (sweep_dir / "grid.tsv").read_text().splitlines()
    names = header.split("\t")[1:]
    job_file = sweep_dir / "job-id"
    job_id = job_file.read_text().strip() if job_file.exists() else ""
    queued = queue_states(job_id) if job_id else {}
    counts: dict[str, int] = {}
    failed = []
    for row in rows:
        index, *values = row.split("\t")
        status_file = sweep_dir / "status" / index
        if status_file.exists():
            state = "done" if status_file.read_text().strip() == "0" else "failed"
        else:
            # Neither finished nor queued: killed, e.g. by a time limit.
            state = queued.get(index, "lost").lower()
        counts[state] = counts.get(state, 0) + 1
        if state in ("failed", "lost"):
            settings = " ".join(f"{names[column]}={value}" for column, value in enumerate(values))
            failed.append((index, settings, state))
    summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    job = f"Slurm job {job_id or 'not submitted'}"
    print(f"Sweep {sweep_dir.name} ({job}): {len(rows)} tasks: {summary}")
    for index, settings, state in failed:
        log = sweep_dir / "logs" / f"{index}.log"
        print(f"  {state} task {index} ({settings}): {log}")
        print(f"    {last_error(log)}")


def main() -> None:
    if len(sys.argv) >= 6 and sys.argv[1] == "plan":
        plan(Path(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    elif len(sys.argv) == 3 and sys.argv[1] == "status":
        status(Path(sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
