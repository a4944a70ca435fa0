"""The wire protocol as boto3 sees it: routing, errors, auth, timestamps, money, ids, faults."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import time

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.emulator.helpers import create_hit, error_of, hit_params


def raw_call(
    emu,
    target: str,
    body: dict,
    auth: str
    | None = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/mturk-requester/aws4_request, SignedHeaders=host, Signature=abc",
):
    conn = http.client.HTTPConnection(emu.server.host, emu.server.port, timeout=10)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
    if auth:
        headers["Authorization"] = auth
    conn.request("POST", "/", body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response.status, response.getheader("Content-Type"), payload


def test_success_shapes_timestamps_money_and_ids(emu, mturk):
    hit = create_hit(mturk)
    assert re.fullmatch(r"[A-Z0-9]{30}", hit["HITId"])
    assert re.fullmatch(r"[A-Z0-9]{30}", hit["HITTypeId"])
    assert hit["Reward"] == "0.50"
    assert isinstance(hit["CreationTime"], dt.datetime)
    assert hit["Expiration"] - hit["CreationTime"] == dt.timedelta(seconds=3600)
    status, content_type, payload = raw_call(
        emu, "MTurkRequesterServiceV20170117.GetHIT", {"HITId": hit["HITId"]}
    )
    assert status == 200 and content_type == "application/x-amz-json-1.1"
    assert isinstance(payload["HIT"]["CreationTime"], float | int)
    assert payload["HIT"]["Reward"] == "0.50"


def test_request_error_body_has_type_message_and_turk_code(emu, mturk):
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.get_hit(HITId="3NOSUCHHIT0000000000000000000")
    error = error_of(excinfo)
    assert error["status"] == 400
    assert re.search(r"does not exist\. \(\d{13}\)$", error["message"])
    assert error["turk"] == "AWS.MechanicalTurk.ResourceNotFound"
    status, _, payload = raw_call(emu, "MTurkRequesterServiceV20170117.GetHIT", {"HITId": "3X"})
    assert status == 400 and payload["__type"] == "RequestError" and "TurkErrorCode" in payload


def test_unknown_operation_and_bad_json(emu):
    status, _, payload = raw_call(emu, "MTurkRequesterServiceV20170117.Nope", {})
    assert status == 400 and payload["__type"] == "UnknownOperationException"


def test_missing_authorization_is_refused(emu):
    client = boto3.client(
        "mturk",
        region_name="us-east-1",
        endpoint_url=emu.endpoint_url,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as excinfo:
        client.get_account_balance()
    assert excinfo.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    status, _, payload = raw_call(
        emu, "MTurkRequesterServiceV20170117.GetAccountBalance", {}, auth="Basic abc"
    )
    assert status == 403 and payload["__type"] == "IncompleteSignatureException"


def test_any_access_key_is_accepted(emu):
    client = boto3.client(
        "mturk",
        region_name="us-east-1",
        endpoint_url=emu.endpoint_url,
        aws_access_key_id="ANYTHING",
        aws_secret_access_key="whatever",
    )
    assert client.get_account_balance()["AvailableBalance"] == "10000.00"


def test_server_side_validation_of_required_members_and_ranges(emu, mturk_unvalidated):
    client = mturk_unvalidated
    with pytest.raises(client.exceptions.RequestError) as excinfo:
        client.create_hit(Title="t", Description="d", Reward="0.10", LifetimeInSeconds=60)
    assert "AssignmentDurationInSeconds" in error_of(excinfo)["message"]
    with pytest.raises(client.exceptions.RequestError) as excinfo:
        client.create_hit(**hit_params(Reward="0.505"))
    assert "Reward" in error_of(excinfo)["message"]
    with pytest.raises(client.exceptions.RequestError) as excinfo:
        client.list_hits(MaxResults=101)
    assert "MaxResults" in error_of(excinfo)["message"]
    with pytest.raises(client.exceptions.RequestError) as excinfo:
        client.create_worker_block(WorkerId="not-a-worker", Reason="x")
    assert "WorkerId" in error_of(excinfo)["message"]


def test_throttling_is_rate_exceeded_and_retried_by_boto3(emu):
    emu.control.set_faults(throttle_rate=1.0)
    retrying = emu.client(retries={"mode": "standard", "total_max_attempts": 3})
    with pytest.raises(ClientError) as excinfo:
        retrying.get_account_balance()
    response = excinfo.value.response
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["Error"]["Message"] == "Rate exceeded"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    emu.control.set_faults(throttle_rate=0.0)
    assert retrying.get_account_balance()["AvailableBalance"] == "10000.00"


def test_service_fault_is_5xx(emu, mturk):
    emu.control.set_faults(operations={"GetAccountBalance": {"fault_rate": 1.0}})
    with pytest.raises(mturk.exceptions.ServiceFault) as excinfo:
        mturk.get_account_balance()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # Only that operation is affected.
    assert mturk.list_hits()["NumResults"] == 0


def test_partial_throttle_rate_is_seeded_and_latency_is_added(emu, mturk):
    emu.control.set_faults(throttle_rate=0.5, seed=42)
    outcomes = []
    for _ in range(40):
        try:
            mturk.get_account_balance()
            outcomes.append("ok")
        except ClientError:
            outcomes.append("throttled")
    assert 5 < outcomes.count("throttled") < 35
    emu.control.set_faults(throttle_rate=0.5, seed=42)
    again = []
    for _ in range(40):
        try:
            mturk.get_account_balance()
            again.append("ok")
        except ClientError:
            again.append("throttled")
    assert again == outcomes  # same seed, same faults
    emu.control.set_faults(throttle_rate=0.0, latency_ms=150)
    started = time.monotonic()
    mturk.get_account_balance()
    assert time.monotonic() - started >= 0.15
    calls = emu.control.get("calls")
    assert calls["error_counts"]["Throttled"] >= 10
