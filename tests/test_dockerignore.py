"""The Docker build context (.dockerignore): secrets and local state stay out of the image, and every
source file the repository tracks goes in (the Dockerfile's `COPY . .` needs them; only the git and
pre-commit settings stay out).

Docker is not available on every machine that runs the tests, so the file is read here with the
same rules `docker build` applies (moby's patternmatcher): `#` comments, `!` exceptions, the last
matching pattern wins, `*` and `?` stay within one path segment, `**` spans any number of them, and
a pattern that matches a folder excludes everything inside it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                out += ".*" if i + 1 >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(f"^{out}$")


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = line[1:].strip() if exception else line
        pattern = pattern.strip("/")
        rules.append((exception, _regex(pattern)))
    return rules


def excluded(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Whether `docker build` leaves `path` (relative, with /) out of the context."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    result = False
    for exception, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            result = not exception
    return result


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        "deploy/.env",
        "var/db.sqlite3",
        "var/broker/queue/msg.json",
        "var/emulator-state.json",
        ".git/HEAD",
        ".git/objects/ab/cdef",
        ".venv/bin/python",
        "test-artifacts/review-grid.png",
        "dashboard/__pycache__/settings.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        "staticfiles/css/app.css",
        "db.sqlite3",
        "secrets/server.key",
    ],
)
def test_secrets_and_local_state_stay_out_of_the_image(path):
    assert excluded(path, _rules()), f"{path} would be copied into the Docker image"


def test_every_tracked_file_goes_in():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    wanted = [p for p in tracked if p not in {".gitignore", ".pre-commit-config.yaml"}]

    left_out = [path for path in wanted if excluded(path, _rules())]

    assert tracked and left_out == []
    assert not excluded(".env.example", _rules())


def test_the_matcher_reads_docker_patterns():
    rules = [(False, _regex("**/*.pyc")), (False, _regex("var")), (True, _regex("var/keep"))]

    assert excluded("a/b/c.pyc", rules) and excluded("c.pyc", rules)
    assert excluded("var/x", rules) and not excluded("var/keep", rules)
    assert not excluded("variable.txt", rules)
