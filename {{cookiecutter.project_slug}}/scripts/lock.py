"""Resolve requirements.in into requirements.txt, the lock: every package of the image, at one
version, with its sha256 hashes, for linux/amd64 and linux/arm64 alike. `make lock` runs it in the
image's own uv stage, so the host needs no uv, pip or Python. It prints what moved, for example
`lock: + six 1.17.0, scipy 1.17.1 -> 1.17.2`."""

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

UV = "/uv/bin/uv"
SOURCE = Path("requirements.in")
LOCK = Path("requirements.txt")
# The lock says which requirements.in it was made from: `make image` relocks when that one changed.
SOURCE_LINE = "# requirements.in sha256: "
HEADER = """\
# The lock: every package in the image, at one version, with its hashes, for linux/amd64 and
# linux/arm64. Made from requirements.in by `make lock` (docs/docker.md): edit that file instead.
"""
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def source_hash() -> str:
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def pins(lock: str) -> dict[str, str]:
    """Each package's version; one that differs by Python version lists each, e.g. 1.17.1/1.18.1."""
    versions: dict[str, list[str]] = {}
    for name, version in PIN.findall(lock):
        versions.setdefault(name.lower(), []).append(version)
    return {name: "/".join(found) for name, found in versions.items()}


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    added = [f"+ {name} {new[name]}" for name in sorted(new.keys() - old.keys())]
    removed = [f"- {name} {old[name]}" for name in sorted(old.keys() - new.keys())]
    kept = sorted(old.keys() & new.keys())
    moved = [f"{name} {old[name]} -> {new[name]}" for name in kept if old[name] != new[name]]
    return added + moved + removed


def resolve(upgrade: bool) -> str:
    """uv's lock of requirements.in: the versions locked already stay, unless upgrade says otherwise
    or requirements.in asks for others."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "requirements.txt"
        if LOCK.exists() and not upgrade:
            output.write_text(LOCK.read_text())  # uv prefers the versions in its output file
        command = [UV, "pip", "compile", "--quiet", "--universal", "--generate-hashes"]
        command += ["--no-header"]
        command += ["--emit-index-url"] if os.environ.get("UV_EXTRA_INDEX_URL") else []
        command += ["--upgrade"] if upgrade else []
        solved = subprocess.run([*command, "--output-file", str(output), str(SOURCE)])
        if solved.returncode != 0:
            sys.exit("error: requirements.in cannot be locked (uv says why above): fix that line")
        return output.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upgrade", action="store_true", help="take the newest versions allowed")
    upgrade = parser.parse_args().upgrade
    old = LOCK.read_text() if LOCK.exists() else ""
    new = HEADER + SOURCE_LINE + source_hash() + "\n" + resolve(upgrade)
    moved = changes(pins(old), pins(new))
    print("lock: " + (", ".join(moved) if moved else "no package moved"))
    if new != old:
        partial = LOCK.with_name(".requirements.txt.partial")  # renamed whole: never half a lock
        partial.write_text(new)
        partial.replace(LOCK)


if __name__ == "__main__":
    main()
