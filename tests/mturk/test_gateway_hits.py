"""MTurkGateway against the emulator over HTTP: HITs, HIT types, pagination, error mapping."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from mturk.errors import InvalidState, MTurkError, NotFound
from mturk.records import HIT
from tests.mturk.helpers import EXTERNAL_QUESTION, HTML_QUESTION, call_counts, create_hit


def test_create_get_and_list_hits(gateway, emulator):
    hit = create_hit(gateway, keywords="colour, image", requester_annotation="batch 7")
    assert isinstance(hit, HIT)
    assert hit.status == "Assignable" and hit.reward == Decimal("0.50")
    assert hit.max_assignments == 3 and hit.assignments_available == 3
    assert hit.creation_time.tzinfo is dt.UTC and hit.expiration > hit.creation_time
    assert hit.question == HTML_QUESTION and hit.requester_annotation == "batch 7"
    again = gateway.get_hit(hit_id=hit.hit_id)
    assert again == hit
    pages = list(gateway.iter_hit_pages())
    assert [[h.hit_id for h in page] for page in pages] == [[hit.hit_id]]


def test_create_hit_token_repeat_returns_the_existing_hit(gateway, emulator):
    first = gateway.create_hit(
        title="T",
        description="D",
        reward=Decimal("0.10"),
        assignment_duration_seconds=300,
        lifetime_seconds=600,
        question=EXTERNAL_QUESTION,
        token="hit-42",
    )
    second = gateway.create_hit(
        title="T",
        description="D",
        reward=Decimal("0.10"),
        assignment_duration_seconds=300,
        lifetime_seconds=600,
        question=EXTERNAL_QUESTION,
        token="hit-42",
    )
    assert first.created and not second.created
    assert second.hit.hit_id == first.hit.hit_id
    assert len(emulator.control.truth("hits")["hits"]) == 1


def test_create_hit_type_and_hit_with_hit_type(gateway, emulator):
    hit_type_id = gateway.create_hit_type(
        title="Tag images",
        description="Tag them",
        reward="0.25",
        assignment_duration_seconds=600,
        auto_approval_delay_seconds=3600,
        keywords="tags",
    )
    # Same values, same type (MTurk's documented behaviour).
    assert (
        gateway.create_hit_type(
            title="Tag images",
            description="Tag them",
            reward="0.25",
            assignment_duration_seconds=600,
            auto_approval_delay_seconds=3600,
            keywords="tags",
        )
        == hit_type_id
    )
    made = gateway.create_hit_with_hit_type(
        hit_type_id=hit_type_id,
        lifetime_seconds=3600,
        token="hit-7",
        max_assignments=2,
        question=HTML_QUESTION,
    )
    repeat = gateway.create_hit_with_hit_type(
        hit_type_id=hit_type_id,
        lifetime_seconds=3600,
        token="hit-7",
        max_assignments=2,
        question=HTML_QUESTION,
    )
    assert made.created and made.hit.hit_type_id == hit_type_id
    assert made.hit.reward == Decimal("0.25") and made.hit.max_assignments == 2
    assert not repeat.created and repeat.hit.hit_id == made.hit.hit_id
    assert len(emulator.control.truth("hits")["hits"]) == 1


def test_hit_from_a_layout(gateway, emulator):
    layout = emulator.control.post(
        "layouts", {"Template": "<p>${word}</p><input name='answer'>", "Parameters": ["word"]}
    )
    result = gateway.create_hit(
        title="L",
        description="D",
        reward="0.05",
        assignment_duration_seconds=60,
        lifetime_seconds=600,
        token="hit-layout",
        hit_layout_id=layout["HITLayoutId"],
        hit_layout_parameters={"word": "kiwi"},
    )
    assert result.hit.hit_layout_id == layout["HITLayoutId"]


def test_local_argument_checks_send_nothing(gateway, call_log):
    with pytest.raises(ValueError):
        gateway.create_hit(
            title="T",
            description="D",
            reward="0.101",
            assignment_duration_seconds=60,
            lifetime_seconds=60,
            question=HTML_QUESTION,
            token="x",
        )
    with pytest.raises(ValueError):
        gateway.create_hit_with_hit_type(hit_type_id="3X", lifetime_seconds=60, token="t")
    with pytest.raises(ValueError):
        gateway.create_hit_with_hit_type(
            hit_type_id="3X", lifetime_seconds=60, token="", question=HTML_QUESTION
        )
    with pytest.raises(ValueError):
        gateway.iter_reviewable_hit_pages(status="Assignable")
    with pytest.raises(ValueError):
        gateway.update_expiration(hit_id="3X", expire_at=dt.datetime(2020, 1, 1))
    assert call_log == []


def test_not_found_and_invalid_state(gateway, emulator):
    with pytest.raises(NotFound) as excinfo:
        gateway.get_hit(hit_id="3NOSUCHHIT0000000000000000000A")
    error = excinfo.value
    assert error.operation == "GetHIT" and error.request_id and not error.retryable
    assert error.code == "RequestError"
    hit = create_hit(gateway)
    with pytest.raises(InvalidState):
        gateway.delete_hit(hit_id=hit.hit_id)  # still Assignable
    with pytest.raises(InvalidState):
        gateway.update_hit_review_status(hit_id=hit.hit_id)  # not Reviewable


def test_expire_review_status_and_delete(gateway, emulator):
    hit = create_hit(gateway, max_assignments=1)
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    gateway.update_expiration(hit_id=hit.hit_id, expire_at=past)
    # The same update again is refused by MTurk as "already processed": done, not an error.
    gateway.update_expiration(hit_id=hit.hit_id, expire_at=past)
    assert gateway.get_hit(hit_id=hit.hit_id).status == "Reviewable"
    assert [h.hit_id for page in gateway.iter_reviewable_hit_pages() for h in page] == [hit.hit_id]
    gateway.update_hit_review_status(hit_id=hit.hit_id)
    reviewing = list(
        gateway.iter_reviewable_hit_pages(status="Reviewing", hit_type_id=hit.hit_type_id)
    )
    assert [h.hit_id for page in reviewing for h in page] == [hit.hit_id]
    gateway.update_hit_review_status(hit_id=hit.hit_id, revert=True)
    assert gateway.get_hit(hit_id=hit.hit_id).status == "Reviewable"
    gateway.delete_hit(hit_id=hit.hit_id)
    assert [h.hit_id for page in gateway.iter_hit_pages() for h in page] == []
    with pytest.raises(InvalidState):
        gateway.update_hit_review_status(hit_id=hit.hit_id)


def test_extend_with_token_and_change_hit_type(gateway, emulator):
    hit = create_hit(gateway, max_assignments=2)
    first = gateway.create_additional_assignments(hit_id=hit.hit_id, count=3, token="extend-1")
    repeat = gateway.create_additional_assignments(hit_id=hit.hit_id, count=3, token="extend-1")
    assert first.outcome == "extended" and repeat.outcome == "already_extended"
    assert repeat.request_id == first.request_id  # the message quotes the original request
    assert gateway.get_hit(hit_id=hit.hit_id).max_assignments == 5
    with pytest.raises(MTurkError) as excinfo:  # crossing 10 is refused by MTurk
        gateway.create_additional_assignments(hit_id=hit.hit_id, count=6, token="extend-2")
    assert excinfo.value.turk_error_code == "AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease"
    with pytest.raises(ValueError):
        gateway.create_additional_assignments(hit_id=hit.hit_id, count=0, token="extend-3")
    other_type = gateway.create_hit_type(
        title="Other", description="Other", reward="0.50", assignment_duration_seconds=600
    )
    gateway.update_hit_type_of_hit(hit_id=hit.hit_id, hit_type_id=other_type)
    assert gateway.get_hit(hit_id=hit.hit_id).title == "Other"


def test_pagination_over_260_hits_uses_the_minimum_of_calls(gateway, emulator, call_log):
    emulator.control.post("populate", {"HITs": 260, "AssignmentsPerHIT": 1})
    before = call_counts(emulator).get("ListHITs", 0)
    pages = list(gateway.iter_hit_pages())
    assert [len(page) for page in pages] == [100, 100, 60]
    ids = {h.hit_id for page in pages for h in page}
    assert len(ids) == 260
    # The minimum: one call per page of results, and the empty page that ends the listing.
    assert call_counts(emulator)["ListHITs"] - before == math.ceil(260 / 100) + 1
    assert [r.operation for r in call_log] == ["ListHITs"] * 4
    assert all(r.outcome == "ok" and r.request_id for r in call_log)
    # Every populated HIT had its one assignment submitted, so all are Reviewable.
    reviewable = list(gateway.iter_reviewable_hit_pages())
    assert [len(page) for page in reviewable] == [100, 100, 60]
    assert call_counts(emulator)["ListReviewableHITs"] == 4


def test_assignment_pagination_over_260_assignments(gateway, emulator):
    result = emulator.control.post("populate", {"HITs": 1, "AssignmentsPerHIT": 260})
    hit_id = result["first"][0]
    pages = list(gateway.iter_assignment_pages(hit_id=hit_id))
    assert [len(page) for page in pages] == [100, 100, 60]
    assert len({a.assignment_id for page in pages for a in page}) == 260
    assert call_counts(emulator)["ListAssignmentsForHIT"] == 4
    # Status filter: nothing is approved yet. An empty listing is one call and no page.
    assert list(gateway.iter_assignment_pages(hit_id=hit_id, statuses=["Approved"])) == []
    assert call_counts(emulator)["ListAssignmentsForHIT"] == 5
    with pytest.raises(ValueError):
        gateway.iter_assignment_pages(hit_id=hit_id, statuses=["Accepted"])


def test_pages_are_lazy(gateway, emulator):
    emulator.control.post("populate", {"HITs": 150})
    pages = gateway.iter_hit_pages()
    assert call_counts(emulator).get("ListHITs", 0) == 0
    first = next(pages)
    assert len(first) == 100 and call_counts(emulator)["ListHITs"] == 1


def test_an_empty_page_ends_a_listing_even_with_a_token(gateway, emulator, call_log):
    """Both shapes end a listing: MTurk's (an empty page without a token) and an empty page that
    still carries one, which botocore's paginator alone would follow. The responses are canned at
    the boto3 client (botocore's Stubber) because no MTurk we can run sends the second shape."""
    from botocore.stub import Stubber

    hit = create_hit(gateway)
    raw = gateway.client.get_hit(HITId=hit.hit_id)["HIT"]
    with Stubber(gateway.client) as stub:
        stub.add_response(
            "list_hits",
            {"HITs": [raw], "NumResults": 1, "NextToken": "page2"},
            {"MaxResults": 100},
        )
        stub.add_response(
            "list_hits",
            {"HITs": [], "NumResults": 0, "NextToken": "page3"},
            {"MaxResults": 100, "NextToken": "page2"},
        )
        pages = list(gateway.iter_hit_pages())
        stub.assert_no_pending_responses()
    assert [[h.hit_id for h in page] for page in pages] == [[hit.hit_id]]
    assert [r.operation for r in call_log if r.operation == "ListHITs"] == ["ListHITs"] * 2
