"""Every operation of botocore's MTurk model must be called by some emulator test through a real
boto3 client over HTTP. The emulator counts the calls whose User-Agent is boto3's (process-wide,
never reset); tests/emulator/conftest.py reads the counts when the session emulator stops and, at
the end of the session, fails the run if an operation has lost its last test.

The rule for when to check: only when the whole emulator suite ran, that is
- the run passed so far (a failed or interrupted run, `-x` included, already fails; an operation
  it did not reach says nothing), and it was not `--collect-only`;
- every test module under tests/emulator was collected (so not one file, not `--lf` skipping files);
- no test under tests/emulator was deselected (`-k`, `-m "not slow"`, `--deselect`, `--lf`);
- no command-line argument names single tests there (`tests/emulator/test_hits.py::test_x`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from pathlib import Path

import botocore.session

EMULATOR_TESTS = Path(__file__).resolve().parent


def mturk_operations() -> set[str]:
    """The operations of botocore's MTurk model (39 for the 2017-01-17 API)."""
    return set(botocore.session.get_session().get_service_model("mturk").operation_names)


def uncovered_operations(called: Iterable[str], operations: Iterable[str]) -> list[str]:
    """The operations no test called, sorted."""
    return sorted(set(operations) - set(called))


def collected_modules(directory: Path, patterns: Iterable[str]) -> set[Path]:
    """The files under `directory` that pytest collects as test modules (its `python_files`)."""
    patterns = list(patterns)
    return {
        path.resolve()
        for path in directory.rglob("*.py")
        if any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns)
    }


def whole_suite_selected(
    directory: Path,
    *,
    modules: Iterable[Path],
    selected: Iterable[Path],
    deselected: Iterable[Path],
    args: Iterable[str],
    invocation_dir: Path,
) -> bool:
    """Whether every test under `directory` was selected: each module has a selected test, none
    was deselected, and no argument names single tests (a node id) under `directory`."""

    def inside(path: Path) -> bool:
        return path.resolve().is_relative_to(directory)

    if any(inside(path) for path in deselected):
        return False
    for arg in args:
        path, _, rest = arg.partition("::")
        if rest and inside(invocation_dir / path):
            return False
    chosen = {path.resolve() for path in selected if inside(path)}
    return set(modules) <= chosen
