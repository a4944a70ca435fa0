"""MTurkGateway under faults: throttling and 5xx retried by botocore's standard mode then surfaced
as retryable errors, connection failures, auth refusals; and the on_call hook's accounting (one
record per API call, HTTP requests counted once each, request ids) checked against the emulator's
own per-operation request counts."""

from __future__ import annotations

import re
import socket

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError

from mturk.errors import AuthFailure, ServiceUnavailable, Throttled, map_error
from tests.mturk.conftest import make_gateway
from tests.mturk.helpers import call_counts, create_hit, work

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_throttling_is_retried_then_surfaced(emulator, call_log):
    gateway = make_gateway(emulator, call_log, max_attempts=2)
    emulator.control.set_faults(operations={"GetAccountBalance": {"throttle_rate": 1.0}})
    with pytest.raises(Throttled) as excinfo:
        gateway.get_account_balance()
    error = excinfo.value
    assert error.retryable and error.code == "ThrottlingException"
    assert error.retry_attempts == 1 and error.request_id
    assert call_counts(emulator)["GetAccountBalance"] == 2
    (record,) = call_log
    assert record.outcome == "error" and record.error_code == "ThrottlingException"
    assert record.http_requests == 2 and record.retry_attempts == 1


def test_service_faults_are_retried_then_surfaced(emulator, call_log):
    gateway = make_gateway(emulator, call_log, max_attempts=2)
    emulator.control.set_faults(operations={"GetAccountBalance": {"fault_rate": 1.0}})
    with pytest.raises(ServiceUnavailable) as excinfo:
        gateway.get_account_balance()
    assert excinfo.value.retryable and excinfo.value.code == "ServiceFault"
    assert excinfo.value.http_status == 500
    assert call_counts(emulator)["GetAccountBalance"] == 2
    assert call_log[0].http_requests == 2


def test_a_retried_fault_then_success_is_one_ok_record(emulator, call_log):
    gateway = make_gateway(emulator, call_log, max_attempts=5)
    emulator.control.set_faults(seed=11, operations={"GetAccountBalance": {"fault_rate": 0.5}})
    for _ in range(40):
        try:
            gateway.get_account_balance()
        except ServiceUnavailable:
            continue
        if call_log[-1].retry_attempts:
            break
    record = call_log[-1]
    assert record.outcome == "ok" and record.retry_attempts >= 1
    assert record.http_requests == record.retry_attempts + 1
    # Every HTTP request the emulator saw is accounted for exactly once.
    assert sum(r.http_requests for r in call_log) == call_counts(emulator)["GetAccountBalance"]


def test_connection_refused_is_service_unavailable(emulator, call_log):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = make_gateway(
        emulator, call_log, endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1
    )
    with pytest.raises(ServiceUnavailable) as excinfo:
        gateway.get_hit(hit_id="3X")
    assert excinfo.value.retryable and excinfo.value.request_id is None
    assert call_log[0].outcome == "error" and call_log[0].request_id is None


def test_unsigned_requests_are_auth_failures(emulator):
    # The emulator, like MTurk, refuses requests without a SigV4 signature (HTTP 403).
    client = emulator.client(signature_version=UNSIGNED)
    with pytest.raises(ClientError) as excinfo:
        client.get_account_balance()
    mapped = map_error(excinfo.value, "GetAccountBalance")
    assert isinstance(mapped, AuthFailure) and not mapped.retryable


def test_on_call_hook_gets_one_record_per_request_with_request_ids(emulator, call_log):
    gateway = make_gateway(emulator, call_log)
    emulator.control.post("populate", {"HITs": 120})
    gateway.get_account_balance()
    hit = create_hit(gateway)
    gateway.get_hit(hit_id=hit.hit_id)
    pages = list(gateway.iter_hit_pages())
    assert len(pages) == 2
    counts = call_counts(emulator)
    assert [r.operation for r in call_log] == [
        "GetAccountBalance",
        "CreateHIT",
        "GetHIT",
        "ListHITs",
        "ListHITs",
        "ListHITs",  # the empty page that ends every listing at MTurk
    ]
    assert len(call_log) == sum(counts.values())
    for record in call_log:
        assert record.outcome == "ok" and UUID.match(record.request_id)
        assert record.http_requests == 1 and record.duration_ms > 0
        assert record.started_at.tzinfo is not None and record.account == "test"
    assert len({r.request_id for r in call_log}) == len(call_log)


def test_a_failing_hook_does_not_fail_the_call(emulator):
    def broken(record):
        raise RuntimeError("metrics down")

    with make_gateway(emulator, on_call=broken) as gateway:
        assert gateway.get_account_balance().available > 0


def test_credentials_and_answers_never_reach_the_log_or_repr(emulator, caplog):
    gateway = make_gateway(emulator, None, secret_access_key="SUPERSECRETVALUE123")
    with caplog.at_level("DEBUG", logger="mturk"):
        gateway.get_account_balance()
        hit = create_hit(gateway)
        assignment_id = work(emulator, hit.hit_id, "AWORKERONE", {"color": "SECRETANSWERTEXT"})
        assignment, _ = gateway.get_assignment(assignment_id=assignment_id)
        gateway.reject_assignment(assignment_id=assignment_id, feedback="PRIVATEFEEDBACK")
    assert "SECRETANSWERTEXT" in assignment.answer
    assert "SECRETANSWERTEXT" not in caplog.text and "PRIVATEFEEDBACK" not in caplog.text
    assert "SUPERSECRETVALUE123" not in caplog.text
    assert "AKIDMTURKTESTS" not in caplog.text
    assert "GetAccountBalance" in caplog.text and "outcome=ok" in caplog.text
    assert "SUPERSECRETVALUE123" not in repr(gateway.config)
