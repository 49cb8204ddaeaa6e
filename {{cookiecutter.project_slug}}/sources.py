"""Where a run's data comes from, checked by its sha256: a file of your own under data/, the copy
that a hand-in carries in results/<run>/, or a course's data set that data/sources.txt names."""

import hashlib
import shutil
import sys
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent
SOURCES = PROJECT_DIR / "data" / "sources.txt"
# GitHub refuses files over 100 MB, and every clone of a hand-in carries its data: stay well below.
HAND_IN_LIMIT_MB = 50


def sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def inside_project(path: str) -> Path | None:
    """path relative to the project folder, or None when it lies outside."""
    full = (PROJECT_DIR / path).resolve()
    return full.relative_to(PROJECT_DIR) if full.is_relative_to(PROJECT_DIR) else None


def listed() -> dict[str, tuple[str, str]]:
    """The course's data sets: a line of data/sources.txt each, '<path> <sha256> <URL>'."""
    entries = {}
    lines = SOURCES.read_text().splitlines() if SOURCES.is_file() else []
    for number, line in enumerate(lines, start=1):
        words = line.split()
        if len(words) == 3 and not line.startswith("#"):
            entries[words[0]] = (words[1], words[2])
        elif words and not line.startswith("#"):
            rule = "write '<path> <sha256> <URL>'"
            sys.exit(f"error: data/sources.txt:{number}: {rule}, got {line.strip()!r}")
    return entries


def course_data(path: str) -> tuple[str, str] | None:
    """The sha256 and URL that data/sources.txt gives for path, if it names it."""
    relative = inside_project(path)
    return listed().get(relative.as_posix()) if relative else None


def fetch(path: str) -> bool:
    """Download a missing course data set into its place under data/; False if none is listed."""
    entry = course_data(path)
    if entry is None:
        return False
    expected, url = entry
    target = PROJECT_DIR / inside_project(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"Fetching {path} from {url}, as data/sources.txt says")
    partial = target.with_name(f".partial-{target.name}")  # renamed once checked: no half a file
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as file:
            shutil.copyfileobj(response, file)
    except OSError as error:
        partial.unlink(missing_ok=True)
        sys.exit(f"error: cannot fetch {path} from {url} ({error}): check data/sources.txt")
    found = sha256(partial)
    if found != expected:
        partial.unlink()
        sys.exit(f"error: {url} gave sha256 {found}, but data/sources.txt says {expected}")
    partial.replace(target)
    return True


def to_hand_in(manifest: dict) -> Path | None:
    """The data file that a hand-in of this run carries: None for built-in or course data.
    Refuses data outside the project, and data too big for git."""
    data = manifest["data"]
    if "file" not in data or (course_data(data["file"]) or ("",))[0] == data["sha256"]:
        return None
    relative = inside_project(data["file"])
    if relative is None:
        sys.exit(f"error: DATA {data['file']} is outside the project: move it into data/")
    size_mb = (PROJECT_DIR / relative).stat().st_size / 1e6
    if size_mb > HAND_IN_LIMIT_MB:
        line = f"{relative.as_posix()} {data['sha256']} <URL>"
        sys.exit(
            f"error: {relative} is {size_mb:.0f} MB, over the {HAND_IN_LIMIT_MB} MB that a hand-in"
            " carries: publish it where the grader can download it, add the line"
            f" '{line}' to data/sources.txt, commit, and hand in again (docs/handing-in.md)"
        )
    return relative


def for_rerun(manifest: dict, recorded_dir: Path) -> str:
    """The data file that a rerun of a recorded run reads, checked before it trains: the hand-in's
    copy if it carries one, else the recorded file, fetched first if a missing course data set."""
    data, run = manifest["data"], manifest["run"]
    if "file" not in data:
        return ""
    relative = inside_project(data["file"])
    copy = recorded_dir / relative if relative else None
    path = copy if copy and copy.is_file() else PROJECT_DIR / data["file"]
    if not path.is_file() and not fetch(data["file"]):
        sys.exit(
            f"error: {data['file']}, the data of run {run}, is missing: a hand-in carries it in"
            f" results/{run}/, a course data set is listed in data/sources.txt; else put it back"
        )
    shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
    found = sha256(path)
    if found != data["sha256"]:
        sys.exit(f"error: {shown} has sha256 {found}, but run {run} was made from {data['sha256']}")
    return str(shown)
