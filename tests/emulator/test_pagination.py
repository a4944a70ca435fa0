"""Pagination: opaque NextToken, MaxResults 1-100, NumResults, no token on the last page, stability
across concurrent inserts, and boto3's paginators over more than 250 items."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import create_hit, error_of, work


def test_list_hits_paginator_over_260_hits(emu, mturk):
    emu.control.post("populate", {"HITs": 260})
    pages = list(mturk.get_paginator("list_hits").paginate(PaginationConfig={"PageSize": 100}))
    assert [p["NumResults"] for p in pages] == [100, 100, 60]
    assert "NextToken" in pages[0] and "NextToken" not in pages[-1]
    ids = [h["HITId"] for p in pages for h in p["HITs"]]
    assert len(ids) == len(set(ids)) == 260


def test_default_page_size_and_limits(emu, mturk, mturk_unvalidated):
    emu.control.post("populate", {"HITs": 15})
    first = mturk.list_hits()
    assert first["NumResults"] == 10 and "NextToken" in first
    second = mturk.list_hits(NextToken=first["NextToken"])
    assert second["NumResults"] == 5 and "NextToken" not in second
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
        pages = mturk.get_paginator(name).paginate(**kwargs, PaginationConfig={"PageSize": 2})
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
