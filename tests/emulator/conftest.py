"""Fixtures for the emulator tests: one in-process emulator per session (port 0), reset per test,
reached through real boto3 clients over HTTP. At the end of a session that ran the whole emulator
suite, the run fails if some MTurk operation was never called (the rule: operation_coverage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.testing import run_emulator
from tests.emulator.operation_coverage import (
    EMULATOR_TESTS,
    collected_modules,
    mturk_operations,
    uncovered_operations,
    whole_suite_selected,
)

# What the session emulator counted (operation -> calls through boto3), read as it stops.
BOTO3_CALLS = pytest.StashKey[dict[str, int]]()
# The tests that -k, -m, --deselect or --lf left out, anywhere.
DESELECTED = pytest.StashKey[list[Path]]()


@pytest.fixture(scope="session")
def emulator_server(request):
    with run_emulator(crowd=0, speed=1.0, seed=1) as running:
        yield running
        request.config.stash[BOTO3_CALLS] = running.control.get("calls")["boto3_calls"]


@pytest.fixture
def emu(emulator_server):
    """The session emulator with fresh state (balance $10,000, no crowd, no faults)."""
    emulator_server.control.reset(seed=1)
    yield emulator_server


@pytest.fixture(scope="session")
def mturk(emulator_server):
    """A boto3 MTurk client for the session emulator; retries off so each call is one request."""
    return emulator_server.client()


@pytest.fixture(scope="session")
def mturk_unvalidated(emulator_server):
    """A client that skips botocore's own parameter validation, to reach the server's checks."""
    return emulator_server.client(parameter_validation=False)


# --- Operation coverage --------------------------------------------------------------------------


def pytest_deselected(items):
    config = items[0].config if items else None
    if config is not None:
        config.stash.setdefault(DESELECTED, []).extend(item.path for item in items)


@pytest.hookimpl(trylast=True)  # after the runner has torn down the session emulator
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if exitstatus != pytest.ExitCode.OK or config.option.collectonly:
        return
    if not whole_suite_selected(
        EMULATOR_TESTS,
        modules=collected_modules(EMULATOR_TESTS, config.getini("python_files")),
        selected=[item.path for item in session.items],
        deselected=config.stash.get(DESELECTED, []),
        args=config.args,
        invocation_dir=config.invocation_params.dir,
    ):
        return
    missing = uncovered_operations(config.stash.get(BOTO3_CALLS, {}), mturk_operations())
    if not missing:
        return
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
    lines = [
        f"{len(missing)} MTurk operation(s) no emulator test calls through boto3:",
        *(f"  {name}" for name in missing),
    ]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        print("\n".join(lines))
        return
    reporter.ensure_newline()
    reporter.write_sep("=", "emulator operation coverage", red=True)
    for line in lines:
        reporter.write_line(line, red=True)
