"""A hand-in on the student's own data, on a real engine: the data travels with the hand-in, a fresh
clone reproduces it, and a changed cell, or a missing file, stops the rerun before it trains."""

import hashlib
import ipaddress
import json
import random
from pathlib import Path

import pytest
from baked import HANDED_IN, captured, committed, served
from conftest import DOCKER, bake

pytestmark = pytest.mark.docker

RUN = ["DATA=data/penguins.csv", "TARGET=species", "N_ESTIMATORS=10", "RUN_NAME=own"]
COPY = Path("results/own/data/penguins.csv")


def penguins(path: Path) -> None:
    """A small table as students bring them: text and number columns, a few empty cells."""
    draw = random.Random(7)
    rows = ["species,island,bill_mm,mass_g"]
    for index in range(150):
        species = ("Adelie", "Gentoo", "Chinstrap")[index % 3]
        bill = "" if index % 17 == 0 else f"{38 + 5 * (index % 3) + draw.random() * 4:.1f}"
        island = draw.choice(["Biscoe", "Dream"])
        rows.append(f"{species},{island},{bill},{3500 + draw.randint(0, 900)}")
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The student trains on data/penguins.csv, hands the run in as submit says; staff clone it."""
    folder = tmp_path_factory.mktemp("own")
    student = committed(folder, project_name="Repro Own Data")
    penguins(student.path / "data" / "penguins.csv")
    student.make("train", *RUN)
    said = student.hand_in("own")
    assert "Handed in as results/own/, with its data data/penguins.csv" in said
    assert (student.path / COPY).read_bytes() == (student.path / "data/penguins.csv").read_bytes()
    assert student.git("status", "--porcelain") == ""  # submit's words leave nothing out
    yield student.clone(tmp_path_factory.mktemp("staff") / "repro_own_data")
    student.make("clean", check=False)


def test_a_fresh_clone_reproduces_a_run_on_own_data(clone):
    assert not (clone.path / "data" / "penguins.csv").exists()  # only the hand-in's copy came along
    clone.make("image")
    result = clone.make("reproduce", "RUN=own")
    assert "OK: run own reproduced bit-identical" in result.stdout
    assert "warning" not in result.stderr  # the data's path moved, its bytes did not


def test_one_changed_cell_stops_the_rerun_and_names_the_data(clone):
    original = clone.read(COPY)
    recorded = hashlib.sha256(original.encode()).hexdigest()
    with clone.edited(COPY, original.replace("Dream", "Torgersen", 1)):
        changed = hashlib.sha256((clone.path / COPY).read_bytes()).hexdigest()
        result = clone.fails("reproduce", "RUN=own")
    assert "Traceback" not in result.stderr
    error = f"error: {COPY} has sha256 {changed}, but run own was made from {recorded}"
    assert error in result.stderr.splitlines()


def test_missing_data_says_where_it_comes_from(clone):
    path = clone.path / COPY
    original = path.read_bytes()
    path.unlink()
    try:
        result = clone.fails("reproduce", "RUN=own")
    finally:
        path.write_bytes(original)
    assert "Traceback" not in result.stderr
    missing = "error: data/penguins.csv, the data of run own, is missing: a hand-in carries it in"
    assert missing in result.stderr
    assert "results/own/, a course data set is listed in data/sources.txt" in result.stderr


def test_data_too_big_for_git_is_refused_with_what_to_do(tmp_path):
    """No engine needed for the rule itself: a file over the limit is named with the line to add."""
    project = bake(tmp_path, project_name="Repro Big Data")
    big = project / "data" / "big.csv"
    with big.open("wb") as file:
        file.truncate(51 * 10**6)
    manifest = "{'run': 'big', 'data': {'file': 'data/big.csv', 'sha256': 'abc'}}"
    script = f"import sources; sources.to_hand_in({manifest})"
    result = captured(["python3", "-c", script], cwd=project)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    refusal = "error: data/big.csv is 51 MB, over the 50 MB that a hand-in carries"
    assert result.stderr.startswith(refusal)
    assert "add the line 'data/big.csv abc <URL>' to data/sources.txt" in result.stderr


@pytest.fixture
def published(tmp_path):
    """Staff publish the course's data set once, on a web server that containers reach: on the
    address of Docker's bridge on this machine, not on every interface."""
    inspect = [DOCKER, "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"]
    bridge = captured(inspect, check=True)
    [config] = json.loads(bridge.stdout)
    # Docker gives the bridge the first address of its subnet unless told another.
    gateway = config.get("Gateway") or str(ipaddress.ip_network(config["Subnet"])[1])
    folder = tmp_path / "published"
    folder.mkdir()
    penguins(folder / "course.csv")
    with served(folder, gateway) as url:
        yield f"{url}course.csv", folder / "course.csv"


def test_a_course_data_set_is_handed_in_by_name_and_fetched_by_the_grader(published, tmp_path):
    url, original = published
    sha256 = hashlib.sha256(original.read_bytes()).hexdigest()
    student = committed(tmp_path / "student", project_name="Repro Course Data")
    with (student.path / "data" / "sources.txt").open("a") as sources:
        sources.write(f"data/course.csv {sha256} {url}\n")
    student.git("commit", "--quiet", "-am", "The course's data set")
    try:
        settings = ["DATA=data/course.csv", "TARGET=species", "N_ESTIMATORS=10", "RUN_NAME=shared"]
        assert "Fetching data/course.csv from" in student.make("train", *settings).stdout
        said = student.hand_in("shared")
        assert "Handed in as results/shared/. Now commit it" in said  # by name: no copy
        handed_in = sorted(path.name for path in (student.path / "results/shared").iterdir())
        assert handed_in == HANDED_IN
        result = student.clone(tmp_path / "staff").make("reproduce", "RUN=shared")
        assert "Fetching data/course.csv" in result.stdout + result.stderr
        assert "OK: run shared reproduced bit-identical" in result.stdout
        original.write_text(original.read_text().replace("Dream", "Torgersen", 1))  # staff edit it
        later = student.clone(tmp_path / "later")
        result = later.fails("reproduce", "RUN=shared")
        changed = hashlib.sha256(original.read_bytes()).hexdigest()
        assert "Traceback" not in result.stderr
        refusal = f"error: {url} gave sha256 {changed}, but data/sources.txt says {sha256}"
        assert refusal in result.stderr
        assert not (later.path / "data" / "course.csv").exists()  # nothing half-fetched is left
        assert list((later.path / "data").glob(".partial-*")) == []
    finally:
        student.make("clean", check=False)
