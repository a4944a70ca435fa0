"""Every operation of botocore's MTurk model must be called by some test through a real boto3
client over HTTP against the session emulator. The server counts calls whose User-Agent is boto3's
(process-wide, never reset), so this check fails when an operation loses its last test."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

OTHER_HELPERS = {"test_answering.py", "test_notifications.py"}


def test_every_operation_is_called_through_boto3(request, emulator_server):
    collected = {item.path.name for item in request.session.items}
    suite = {p.name for p in Path(__file__).parent.glob("test_*.py")} - OTHER_HELPERS
    if not suite <= collected:
        pytest.skip("operation coverage is checked only when the whole emulator suite runs")
    operations = set(
        boto3.session.Session()
        .client("mturk", region_name="us-east-1")
        .meta.service_model.operation_names
    )
    assert len(operations) == 39
    called = emulator_server.control.get("calls")["boto3_calls"]
    missing = sorted(operations - set(called))
    assert not missing, f"operations no test calls through boto3: {missing}"
