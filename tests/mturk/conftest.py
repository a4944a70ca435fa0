"""Fixtures for the mturk/ package tests: one in-process emulator for the session (port 0), reset
per test, reached by the real gateway over HTTP through real boto3.

Fixture names are distinct from tests/emulator's (conftests of sibling directories do not share
fixtures, and we must not depend on them)."""

from __future__ import annotations

import pytest

from emulator.testing import run_emulator
from mturk.gateway import CallRecord, GatewayConfig, MTurkGateway


@pytest.fixture(scope="session")
def mturk_emulator():
    with run_emulator(crowd=0, speed=1.0, seed=7) as running:
        yield running


@pytest.fixture
def emulator(mturk_emulator):
    """The session emulator with fresh state (balance $10,000, no crowd, no faults)."""
    mturk_emulator.control.reset(seed=7)
    mturk_emulator.control.set_faults(
        throttle_rate=0, fault_rate=0, latency_ms=0, operations={}, seed=7
    )
    yield mturk_emulator
    mturk_emulator.control.set_faults(throttle_rate=0, fault_rate=0, latency_ms=0, operations={})


@pytest.fixture
def call_log() -> list[CallRecord]:
    """Every CallRecord the ``gateway`` fixture reports, in order."""
    return []


def make_gateway(emulator, call_log=None, **overrides) -> MTurkGateway:
    settings = {
        "endpoint_url": emulator.endpoint_url,
        "access_key_id": "AKIDMTURKTESTS",
        "secret_access_key": "mturk-tests-secret",
        "max_attempts": 3,
        "connect_timeout": 2.0,
        "read_timeout": 10.0,
        "on_call": call_log.append if call_log is not None else None,
        "account": "test",
    }
    settings.update(overrides)
    return MTurkGateway(GatewayConfig(**settings))


@pytest.fixture
def gateway(emulator, call_log) -> MTurkGateway:
    """A gateway on the fresh emulator; its CallRecords land in ``call_log``."""
    return make_gateway(emulator, call_log)
