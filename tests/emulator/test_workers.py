"""Worker blocks and NotifyWorkers."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import create_hit, work


def test_blocks_are_listed_updated_and_removed(emu, mturk, mturk_unvalidated):
    mturk.create_worker_block(WorkerId="ASPAM1", Reason="Copy-paste answers")
    mturk.create_worker_block(WorkerId="ASPAM2", Reason="Bot")
    mturk.create_worker_block(WorkerId="ASPAM1", Reason="Updated reason")
    blocks = mturk.list_worker_blocks()["WorkerBlocks"]
    assert blocks == [
        {"WorkerId": "ASPAM1", "Reason": "Updated reason"},
        {"WorkerId": "ASPAM2", "Reason": "Bot"},
    ]
    mturk.delete_worker_block(WorkerId="ASPAM1", Reason="Appealed")
    mturk.delete_worker_block(WorkerId="ANEVERBLOCKED")
    assert [b["WorkerId"] for b in mturk.list_worker_blocks()["WorkerBlocks"]] == ["ASPAM2"]
    with pytest.raises(mturk_unvalidated.exceptions.RequestError):
        mturk_unvalidated.create_worker_block(WorkerId="ASPAM3")


def test_notify_workers_reports_per_worker_failures(emu, mturk):
    hit = create_hit(mturk)
    work(emu, hit["HITId"], "AKNOWN")
    result = mturk.notify_workers(
        Subject="Thanks", MessageText="New HITs tomorrow", WorkerIds=["AKNOWN", "ASTRANGER"]
    )
    failures = result["NotifyWorkersFailureStatuses"]
    assert [f["WorkerId"] for f in failures] == ["ASTRANGER"]
    assert failures[0]["NotifyWorkersFailureCode"] == "HardFailure"
    messages = emu.control.truth("messages")["messages"]
    assert [m["WorkerId"] for m in messages] == ["AKNOWN"]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.notify_workers(
            Subject="x", MessageText="y", WorkerIds=[f"A{i:03d}" for i in range(101)]
        )
