"""Fixtures for the emulator tests: one in-process emulator per session (port 0), reset per test,
reached through real boto3 clients over HTTP."""

from __future__ import annotations

import pytest

from emulator.testing import run_emulator


def pytest_collection_modifyitems(session, config, items):
    # The operation-coverage check reads what every other test did, so it runs last.
    items.sort(key=lambda item: item.path.name == "test_zz_operation_coverage.py")


@pytest.fixture(scope="session")
def emulator_server():
    with run_emulator(crowd=0, speed=1.0, seed=1) as running:
        yield running


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
