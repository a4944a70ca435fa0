"""Pure pieces of mturk/: tokens, fees (and their agreement with the emulator), records, error
classification of real botocore exceptions."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoRegionError,
    ReadTimeoutError,
)

from emulator.protocol import fee_cents
from mturk.errors import (
    AlreadyProcessed,
    AuthFailure,
    InsufficientFunds,
    InvalidState,
    MTurkError,
    NotFound,
    ServiceUnavailable,
    Throttled,
    map_error,
)
from mturk.fees import assignment_cost, assignment_fee, bonus_cost, bonus_fee, total_cost
from mturk.records import HIT, Assignment, BonusPayment, Qualification, to_decimal, to_utc
from mturk.tokens import request_token


def test_request_tokens_are_deterministic_and_bounded():
    assert request_token("bonus", 123) == "bonus-123"
    assert request_token("bonus", "123") == request_token("bonus", 123)
    assert request_token("hit", 1) != request_token("bonus", 1)
    long_a = request_token("approval", "x" * 200 + "a")
    long_b = request_token("approval", "x" * 200 + "b")
    assert len(long_a) == len(long_b) == 64 and long_a != long_b
    assert request_token("a b", "c/d") == "a_b-c_d"
    with pytest.raises(ValueError):
        request_token("", 1)


@pytest.mark.parametrize(
    "reward,max_assignments,fee",
    [
        ("0.50", 3, "0.10"),
        ("0.50", 10, "0.20"),
        ("0.50", 9, "0.10"),
        ("0.01", 1, "0.01"),  # 20% of a cent rounds to 0: the minimum fee applies
        ("0.03", 1, "0.01"),
        ("0.13", 20, "0.05"),  # 0.052 → 0.05
        ("0.14", 1, "0.03"),  # 0.028 → 0.03
        ("0.025", 1, "0.01"),  # 0.005 rounds half up
        ("0.00", 1, "0.00"),
    ],
)
def test_assignment_fees(reward, max_assignments, fee):
    assert assignment_fee(Decimal(reward), max_assignments) == Decimal(fee)


def test_costs_and_totals():
    assert assignment_cost(Decimal("0.50"), 3) == Decimal("0.60")
    assert assignment_cost(Decimal("0.50"), 10) == Decimal("0.70")
    assert bonus_fee(Decimal("1.00")) == Decimal("0.20")
    assert bonus_cost(Decimal("0.02")) == Decimal("0.03")
    assert total_cost(
        reward=Decimal("0.50"), max_assignments=3, assignments=4, bonuses=[Decimal("1.00")]
    ) == Decimal("3.60")
    assert total_cost() == Decimal("0.00")
    with pytest.raises(ValueError):
        bonus_fee(Decimal("-1"))


def test_fees_agree_with_the_emulator():
    for cents_ in list(range(0, 300)) + [999, 1000, 12345]:
        amount = Decimal(cents_) / 100
        for max_assignments, rate in ((1, 20), (9, 20), (10, 40), (100, 40)):
            ours = assignment_fee(amount, max_assignments)
            assert ours == Decimal(fee_cents(cents_, rate)) / 100, (amount, max_assignments)
        assert bonus_fee(amount) == Decimal(fee_cents(cents_, 20)) / 100


def test_the_clients_timestamp_parser_gives_aware_utc_times():
    """Epoch seconds (MTurk's JSON protocol) become UTC datetimes without dateutil's local zone;
    other forms take botocore's parser (same instant)."""
    from mturk.gateway import parse_api_timestamp

    parsed = parse_api_timestamp(1700000000.5)
    assert parsed == dt.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=dt.UTC)
    assert parsed.tzinfo is dt.UTC and to_utc(parsed) is parsed
    assert parse_api_timestamp(0) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert parse_api_timestamp("2024-01-01T00:00:00Z") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_times_and_money_conversions():
    aware = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert to_utc(aware) == dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert to_utc(aware).tzinfo is dt.UTC
    assert to_utc(dt.datetime(2024, 1, 1)) == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert to_utc(1700000000.5) == dt.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=dt.UTC)
    assert to_utc("2024-01-01T00:00:00Z") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert to_utc(None) is None
    assert to_decimal("0.50") == Decimal("0.50") and to_decimal(None) is None
    assert to_decimal(0.1) == Decimal("0.1")
    with pytest.raises(ValueError):
        to_decimal("abc")


def test_records_from_api():
    hit = HIT.from_api(
        {
            "HITId": "3HIT",
            "HITTypeId": "3TYPE",
            "Title": "t",
            "Description": "d",
            "Reward": "0.05",
            "CreationTime": 1700000000,
            "MaxAssignments": 3,
            "QualificationRequirements": [
                {
                    "QualificationTypeId": "00000000000000000071",
                    "Comparator": "In",
                    "LocaleValues": [{"Country": "US"}],
                }
            ],
        }
    )
    assert hit.reward == Decimal("0.05") and hit.creation_time.tzinfo is dt.UTC
    assert hit.expiration is None and hit.max_assignments == 3
    assert hit.qualification_requirements[0]["LocaleValues"] == [{"Country": "US"}]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hit.title = "changed"  # frozen
    assignment = Assignment.from_api(
        {
            "AssignmentId": "3A",
            "WorkerId": "AW",
            "HITId": "3HIT",
            "AssignmentStatus": "Submitted",
            "Answer": "<x/>",
            "SubmitTime": "2024-01-01T00:00:00Z",
        }
    )
    assert assignment.approval_time is None and assignment.answer == "<x/>"
    bonus = BonusPayment.from_api(
        {"WorkerId": "AW", "BonusAmount": "1.25", "AssignmentId": "3A", "Reason": "r"}
    )
    assert bonus.amount == Decimal("1.25")
    qual = Qualification.from_api(
        {
            "QualificationTypeId": "3Q",
            "WorkerId": "AW",
            "LocaleValue": {"Country": "DE"},
            "Status": "Granted",
        }
    )
    assert qual.locale == {"Country": "DE"} and qual.integer_value is None


def _client_error(code, message, *, status=400, turk=None, request_id="rid-1", retries=0):
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "RequestId": request_id,
            "HTTPStatusCode": status,
            "RetryAttempts": retries,
        },
    }
    if turk:
        response["TurkErrorCode"] = turk
    return ClientError(response, "ApproveAssignment")


@pytest.mark.parametrize(
    "error,expected,retryable",
    [
        (_client_error("ThrottlingException", "Rate exceeded", retries=4), Throttled, True),
        (_client_error("ServiceFault", "try again", status=500), ServiceUnavailable, True),
        (_client_error("InternalFailure", "boom", status=503), ServiceUnavailable, True),
        (_client_error("UnrecognizedClientException", "bad key", status=400), AuthFailure, False),
        (_client_error("IncompleteSignatureException", "sig", status=403), AuthFailure, False),
        # Real MTurk messages without a TurkErrorCode are classified by their text.
        (
            _client_error(
                "RequestError",
                "This operation can be called with a status of: Submitted (1537741087056)",
            ),
            InvalidState,
            False,
        ),
        (
            _client_error("RequestError", "Hit 3ABC does not exist. (1537741087056)"),
            NotFound,
            False,
        ),
        # Right after a submission MTurk briefly does not know the state: trying again helps.
        (
            _client_error(
                "RequestError",
                "This operation can be called with a status of: null (1537741087056)",
                turk="AWS.MechanicalTurk.InvalidAssignmentState",
            ),
            InvalidState,
            True,
        ),
        (
            _client_error("RequestError", "x", turk="AWS.MechanicalTurk.ResourceNotFound"),
            NotFound,
            False,
        ),
        (_client_error("RequestError", "Insufficient funds (1)"), InsufficientFunds, False),
        (_client_error("RequestError", "Something else (1)"), MTurkError, False),
    ],
)
def test_client_errors_are_classified(error, expected, retryable):
    mapped = map_error(error, "ApproveAssignment")
    assert type(mapped) is expected
    assert mapped.retryable is retryable
    assert mapped.operation == "ApproveAssignment" and mapped.request_id == "rid-1"
    assert mapped.code == error.response["Error"]["Code"]


def test_repeated_token_messages_carry_the_ids():
    hit = map_error(
        _client_error(
            "RequestError",
            "The HIT with unique request token 'hit-1' already exists: HITId 3XYZABCDEFGHIJKLMNOPQRSTUVW012. (1700000000000)",
            turk="AWS.MechanicalTurk.HitAlreadyExists",
        )
    )
    assert isinstance(hit, AlreadyProcessed) and hit.existing_id == "3XYZABCDEFGHIJKLMNOPQRSTUVW012"
    # Real MTurk's wording for UpdateExpirationForHIT repeats, without a TurkErrorCode.
    expiry = map_error(
        _client_error(
            "RequestError",
            'The idempotency token "3VJ4PFXFJ2J8K3MK3U3N3VK1XRLAUF Wed Jul 14 20:26:06 UTC 2021" has already been processed. (1626172412406)',
        )
    )
    assert isinstance(expiry, AlreadyProcessed)
    assert expiry.existing_id == "3VJ4PFXFJ2J8K3MK3U3N3VK1XRLAUF"
    bonus = map_error(
        _client_error(
            "RequestError",
            'The idempotency token "bonus-1" has already been processed. Request ID: 0b1e4c2a-1111-2222-3333-444455556666 (1700000000000)',
            turk="AWS.MechanicalTurk.DuplicateRequest",
        )
    )
    assert isinstance(bonus, AlreadyProcessed)
    assert bonus.existing_request_id == "0b1e4c2a-1111-2222-3333-444455556666"
    assert bonus.existing_id is None


def test_connection_errors_and_passthrough():
    down = map_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "GetHIT")
    assert isinstance(down, ServiceUnavailable) and down.retryable and down.operation == "GetHIT"
    slow = map_error(ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), "GetHIT")
    assert isinstance(slow, ServiceUnavailable)
    config = map_error(NoRegionError(), "GetHIT")
    assert type(config) is MTurkError and config.code == "NoRegionError" and not config.retryable
    bug = KeyError("x")
    assert map_error(bug) is bug
