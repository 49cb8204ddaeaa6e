"""Check the answers before any file is written; cookiecutter removes the project if this fails."""

import json
import re
import sys

# tojson escapes every quote, so no answer can end this raw string early or inject code.
ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Lowercase letters and digits joined by single underscores: a valid directory,
# Python module and Docker image name all at once.
SLUG_PATTERN = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
SLUG_MAX_LENGTH = 64
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+")


def check_slug(value: str) -> str | None:
    if not SLUG_PATTERN.fullmatch(value) or len(value) > SLUG_MAX_LENGTH:
        return (
            f"must be lowercase letters and digits joined by single underscores, starting"
            f" with a letter, at most {SLUG_MAX_LENGTH} characters (e.g. my_project)"
        )
    return None


def integer_between(low: int, high: int):
    def check(value: str) -> str | None:
        rule = f"must be a whole number from {low} to {high}"
        if not re.fullmatch(r"\d+", value.strip()):
            return rule
        return None if low <= int(value) <= high else rule

    return check


def check_not_blank(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None


def check_email(value: str) -> str | None:
    return None if EMAIL_PATTERN.fullmatch(value) else "must look like name@example.com"


CHECKS = {
    "project_name": check_not_blank,
    "project_slug": check_slug,
    "author_name": check_not_blank,
    "author_email": check_email,
    "seed": integer_between(0, 2**32 - 1),
    "dashboard_port": integer_between(1024, 65535),
    "image_size_budget_mb": integer_between(100, 100_000),
}


def main() -> None:
    for field, check in CHECKS.items():
        value = str(ANSWERS[field])
        problem = check(value)
        if problem:
            print(f"ERROR: {field} {problem}; got {value!r}.", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
