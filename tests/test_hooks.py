"""Bad answers are refused with one line that names the field and the rule,
and leave nothing behind."""

import subprocess
import sys
from pathlib import Path

import pytest
from baked import captured
from conftest import REPO


def cookiecutter(output: Path, *answers: str) -> subprocess.CompletedProcess:
    """cookiecutter --no-input into output, with these answers (field=value)."""
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(output), str(REPO)]
    return captured([*command, *answers], timeout=60)


BAD_ANSWERS = [
    ("project_slug", "My-Project", "lowercase letters and digits joined by single underscores"),
    ("project_slug", "my-project", "lowercase letters and digits joined by single underscores"),
    ("project_slug", "1project", "starting with a letter"),
    ("project_slug", "my__project", "single underscores"),
    ("project_slug", "project_", "single underscores"),
    ("project_slug", "a" * 65, "at most 64 characters"),
    ("project_slug", "../escape", "lowercase letters"),
    ("seed", "-1", "whole number from 0 to 4294967295"),
    ("seed", str(2**32), "whole number from 0 to 4294967295"),
    ("seed", "forty-two", "whole number from 0 to 4294967295"),
    ("dashboard_port", "80", "whole number from 1024 to 65535"),
    ("dashboard_port", "70000", "whole number from 1024 to 65535"),
    ("author_email", "not-an-email", "must look like name@example.com"),
    ("project_name", "   ", "must not be empty"),
]


@pytest.mark.parametrize(
    ("field", "value", "rule"), BAD_ANSWERS, ids=[f"{f}={v[:12]}" for f, v, _ in BAD_ANSWERS]
)
def test_bad_answer_is_refused_and_nothing_is_left(tmp_path, field, value, rule):
    output = tmp_path / "out"
    output.mkdir()
    result = cookiecutter(output, f"{field}={value}")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR:")]
    assert errors == [f"ERROR: {field} {errors[0].split(field, 1)[1].strip()}"]
    assert rule in errors[0] and repr(value) in errors[0]
    assert list(output.iterdir()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("field", "value"), [("seed", "0"), ("seed", str(2**32 - 1)), ("dashboard_port", "1024")]
)
def test_edge_values_are_accepted(tmp_path, field, value):
    result = cookiecutter(tmp_path, f"{field}={value}", "init_git=no")
    assert result.returncode == 0, result.stderr
    assert Path(tmp_path / "my_project" / "train.py").exists()
