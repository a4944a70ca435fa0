"""Pagination as MTurk does it (issue 11): an opaque NextToken on every page with results, then a
last page with NumResults 0 and no token; MaxResults 1-100, stability across concurrent inserts,
boto3's paginators over more than 250 items, and the same shape for every listing operation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.helpers import create_hit, error_of, work
from tests.emulator.test_review_policies import PLURALITY


def walk(list_call, result_key: str, page_size: int, **params: Any) -> list[dict[str, Any]]:
    """Page by hand as clients that read NextToken unconditionally do, checking MTurk's shape on
    every page: a token on each page with results, then one empty page without a token."""
    pages = []
    token = None
    while True:
        page = list_call(MaxResults=page_size, **params, **({"NextToken": token} if token else {}))
        pages.append(page)
        items = page[result_key]
        assert page["NumResults"] == len(items) <= page_size
        if not items:
            assert "NextToken" not in page
            return pages
        token = page["NextToken"]  # a KeyError here is what research tools crashed on


def test_list_hits_paginator_over_260_hits(emu, mturk):
    emu.control.post("populate", {"HITs": 260})
    pages = list(mturk.get_paginator("list_hits").paginate(PaginationConfig={"PageSize": 100}))
    # botocore's paginator ends on the empty page (one call after the last HIT), as at MTurk.
    assert [p["NumResults"] for p in pages] == [100, 100, 60, 0]
    assert all("NextToken" in p for p in pages[:-1]) and "NextToken" not in pages[-1]
    ids = [h["HITId"] for p in pages for h in p["HITs"]]
    assert len(ids) == len(set(ids)) == 260


def test_a_full_last_page_is_followed_by_an_empty_one(emu, mturk):
    emu.control.post("populate", {"HITs": 20})
    pages = walk(mturk.list_hits, "HITs", 10)
    assert [p["NumResults"] for p in pages] == [10, 10, 0]


def test_an_empty_listing_is_one_empty_page(emu, mturk):
    page = mturk.list_hits()
    assert page["NumResults"] == 0 and page["HITs"] == [] and "NextToken" not in page


def test_the_research_tool_loop_ends(emu, mturk):
    """Mephisto's and ParlAI's loop, verbatim but for names: it reads NextToken unconditionally."""
    emu.control.post("populate", {"HITs": 3})
    page = mturk.list_hits(MaxResults=2)
    hits = page["HITs"]
    seen = []
    while len(hits) > 0:
        seen += [h["HITId"] for h in hits]
        page = mturk.list_hits(MaxResults=2, NextToken=page["NextToken"])
        hits = page["HITs"]
    assert len(set(seen)) == 3


def test_default_page_size_and_limits(emu, mturk, mturk_unvalidated):
    emu.control.post("populate", {"HITs": 15})
    first = mturk.list_hits()
    assert first["NumResults"] == 10 and "NextToken" in first
    second = mturk.list_hits(NextToken=first["NextToken"])
    assert second["NumResults"] == 5 and "NextToken" in second
    last = mturk.list_hits(NextToken=second["NextToken"])
    assert last["NumResults"] == 0 and "NextToken" not in last
    assert mturk.list_hits(MaxResults=1)["NumResults"] == 1
    for bad in (0, 101):
        with pytest.raises(mturk_unvalidated.exceptions.RequestError):
            mturk_unvalidated.list_hits(MaxResults=bad)
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.list_hits(NextToken="garbage!")
    assert "pagination token" in error_of(excinfo)["message"]
    # A token from one listing is refused by another.
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.list_reviewable_hits(NextToken=first["NextToken"])


def test_pages_are_stable_across_concurrent_inserts(emu, mturk):
    emu.control.post("populate", {"HITs": 30})
    seen = []
    page = mturk.list_hits(MaxResults=10)
    seen += [h["HITId"] for h in page["HITs"]]
    emu.control.post("populate", {"HITs": 5})  # created while paging: they come at the end
    while "NextToken" in page:
        page = mturk.list_hits(MaxResults=10, NextToken=page["NextToken"])
        seen += [h["HITId"] for h in page["HITs"]]
    assert len(seen) == len(set(seen)) == 35


def test_every_paginator_works(emu, mturk):
    qtid = mturk.create_qualification_type(
        Name="p", Description="d", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    hit = create_hit(
        mturk,
        MaxAssignments=5,
        QualificationRequirements=[{"QualificationTypeId": qtid, "Comparator": "Exists"}],
    )
    for i in range(5):
        worker = f"AWORKER{i}"
        mturk.associate_qualification_with_worker(
            QualificationTypeId=qtid, WorkerId=worker, IntegerValue=i
        )
        assignment_id = work(emu, hit["HITId"], worker)
        mturk.send_bonus(
            WorkerId=worker, BonusAmount="0.01", AssignmentId=assignment_id, Reason="r"
        )
        mturk.create_worker_block(WorkerId=f"ABLOCKED{i}", Reason="spam")
    requestable = mturk.create_qualification_type(
        Name="req", Description="d", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    for i in range(3):
        emu.control.post(
            f"workers/AREQ{i}/qualification-requests", {"QualificationTypeId": requestable}
        )

    def collect(name, key, **kwargs):
        pages = list(mturk.get_paginator(name).paginate(**kwargs, PaginationConfig={"PageSize": 2}))
        assert pages[-1][key] == [] and "NextToken" not in pages[-1]
        assert all(page[key] and "NextToken" in page for page in pages[:-1])
        return [item for page in pages for item in page[key]]

    assert len(collect("list_assignments_for_hit", "Assignments", HITId=hit["HITId"])) == 5
    assert len(collect("list_bonus_payments", "BonusPayments", HITId=hit["HITId"])) == 5
    assert len(collect("list_worker_blocks", "WorkerBlocks")) == 5
    assert (
        len(
            collect(
                "list_workers_with_qualification_type", "Qualifications", QualificationTypeId=qtid
            )
        )
        == 5
    )
    assert (
        len(
            collect(
                "list_qualification_requests",
                "QualificationRequests",
                QualificationTypeId=requestable,
            )
        )
        == 3
    )
    assert (
        len(
            collect(
                "list_qualification_types",
                "QualificationTypes",
                MustBeRequestable=True,
                MustBeOwnedByCaller=True,
            )
        )
        == 2
    )
    assert len(collect("list_hits_for_qualification_type", "HITs", QualificationTypeId=qtid)) == 1
    assert len(collect("list_reviewable_hits", "HITs")) == 1
    assert len(collect("list_hits", "HITs")) == 1


def test_every_listing_has_mturks_shape(emu, mturk):
    """All nine paginated operations, paged by hand with MaxResults=2 and with the default size:
    a token on every page with results, an empty last page without one, nothing twice."""
    qtid = mturk.create_qualification_type(
        Name="shape", Description="d", QualificationTypeStatus="Active"
    )["QualificationType"]["QualificationTypeId"]
    hit = create_hit(
        mturk,
        MaxAssignments=3,
        QualificationRequirements=[{"QualificationTypeId": qtid, "Comparator": "Exists"}],
    )
    for i in range(3):
        worker = f"ASHAPE{i}"
        mturk.associate_qualification_with_worker(QualificationTypeId=qtid, WorkerId=worker)
        assignment_id = work(emu, hit["HITId"], worker)
        mturk.send_bonus(
            WorkerId=worker, BonusAmount="0.01", AssignmentId=assignment_id, Reason="r"
        )
        mturk.create_worker_block(WorkerId=f"ABLOCK{i}", Reason="spam")
        emu.control.post(f"workers/AASK{i}/qualification-requests", {"QualificationTypeId": qtid})
    listings = [
        (mturk.list_hits, "HITs", {}, 1),
        (mturk.list_reviewable_hits, "HITs", {}, 1),
        (mturk.list_hits_for_qualification_type, "HITs", {"QualificationTypeId": qtid}, 1),
        (mturk.list_assignments_for_hit, "Assignments", {"HITId": hit["HITId"]}, 3),
        (mturk.list_bonus_payments, "BonusPayments", {"HITId": hit["HITId"]}, 3),
        (mturk.list_worker_blocks, "WorkerBlocks", {}, 3),
        (
            mturk.list_workers_with_qualification_type,
            "Qualifications",
            {"QualificationTypeId": qtid},
            3,
        ),
        (
            mturk.list_qualification_requests,
            "QualificationRequests",
            {"QualificationTypeId": qtid},
            3,
        ),
        (
            mturk.list_qualification_types,
            "QualificationTypes",
            {"MustBeRequestable": True, "MustBeOwnedByCaller": True},
            1,
        ),
    ]
    for list_call, key, params, expected in listings:
        for size in (2, 100):
            pages = walk(list_call, key, size, **params)
            items = [item for page in pages for item in page[key]]
            assert len(items) == expected, (list_call, size)
            assert len(pages) == -(-expected // size) + 1, (list_call, size)
        # The last page's token is good for a second look: still the empty page, no token.
        again = list_call(MaxResults=2, **params, NextToken=pages[-2]["NextToken"])
        assert again["NumResults"] == 0 and "NextToken" not in again


def test_review_policy_results_page_like_every_listing(emu, mturk):
    """ListReviewPolicyResultsForHIT has no boto3 paginator but pages the same way: the reports'
    lists advance together, each page that shows something has a token, then an empty page."""
    hit = create_hit(mturk, MaxAssignments=3, HITReviewPolicy=PLURALITY)
    for worker, color in (("AW1", "red"), ("AW2", "red"), ("AW3", "green")):
        work(emu, hit["HITId"], worker, {"color": color, "shape": "round"})
    everything = mturk.list_review_policy_results_for_hit(
        HITId=hit["HITId"], RetrieveResults=True, RetrieveActions=True, MaxResults=100
    )
    all_results = everything["HITReviewReport"]["ReviewResults"]
    all_actions = everything["HITReviewReport"]["ReviewActions"]
    assert len(all_results) > 2 and len(all_actions) == 3 and "NextToken" in everything

    results, actions, token, pages = [], [], None, 0
    while True:
        page = mturk.list_review_policy_results_for_hit(
            HITId=hit["HITId"],
            RetrieveResults=True,
            RetrieveActions=True,
            MaxResults=2,
            **({"NextToken": token} if token else {}),
        )
        pages += 1
        report = page["HITReviewReport"]
        assert page["HITReviewPolicy"]["PolicyName"] == "SimplePlurality/2011-09-01"
        if not report["ReviewResults"] and not report["ReviewActions"]:
            assert "NextToken" not in page
            break
        results += report["ReviewResults"]
        actions += report["ReviewActions"]
        token = page["NextToken"]
    assert results == all_results and actions == all_actions
    assert pages == -(-max(len(all_results), len(all_actions)) // 2) + 1
    # Nothing asked for: nothing shown, so no token.
    quiet = mturk.list_review_policy_results_for_hit(HITId=hit["HITId"])
    assert "NextToken" not in quiet
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.list_review_policy_results_for_hit(
            HITId=hit["HITId"], NextToken=page_token_of_another_listing(mturk)
        )


def page_token_of_another_listing(mturk) -> str:
    return mturk.list_hits(MaxResults=1)["NextToken"]
