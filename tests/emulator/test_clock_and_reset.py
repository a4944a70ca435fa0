"""The clock agrees with the clients' (issue 11 item 3): the API's clock is the wall clock, `speed`
paces only the simulated crowd, an accelerated clock is an explicit `clock_speed`, and
GET /_emulator/clock reports the offset from real time. A reset gives a fresh emulator (item 4):
no SNS subscriptions, pending deliveries, faults or clock changes left behind, only what the server
was started with."""

from __future__ import annotations

import time

import pytest

from emulator.testing import ControlError, run_emulator
from tests.emulator.helpers import QUESTION_FORM, create_hit, work


def test_the_api_clock_is_the_wall_clock(emu, mturk):
    clock = emu.control.get("clock")
    assert clock["offset"] == 0 and clock["speed"] == 1
    assert abs(clock["now"] - time.time()) < 1 and abs(clock["real_now"] - time.time()) < 1
    before = time.time()
    hit = create_hit(mturk, LifetimeInSeconds=3600)
    after = time.time()
    created = hit["CreationTime"].timestamp()
    # MTurk sends milliseconds: the creation time falls within the call, as the client saw it.
    assert before - 0.001 <= created <= after + 0.001
    assert hit["Expiration"].timestamp() == pytest.approx(created + 3600, abs=0.002)


def test_advance_is_reported_as_an_offset_and_expiry_follows_the_clock(emu, mturk):
    hit = create_hit(mturk, LifetimeInSeconds=3600)
    moved = emu.control.advance(7200)
    assert moved["offset"] == pytest.approx(7200, abs=0.5)
    assert emu.control.get("clock")["offset"] == pytest.approx(7200, abs=0.5)
    assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"


def test_an_accelerated_clock_is_explicit_and_reported(emu):
    emu.control.post("clock", {"speed": 50})
    time.sleep(0.2)
    clock = emu.control.get("clock")
    assert clock["speed"] == 50 and clock["offset"] >= 0.2 * 49 - 1
    # The crowd's pace is another setting: it never moves the clock.
    assert clock["crowd_speed"] == 1


def test_the_crowd_speed_paces_the_crowd_and_leaves_mturks_timers_alone():
    """Same seed, clock frozen between advances: the crowd at 10x does in 60 s exactly what it
    does in 600 s at 1x, while deadlines and auto-approval keep their real durations."""

    def run(speed: float, seconds: float) -> tuple[list[tuple[str, str, str]], list[dict]]:
        with run_emulator(seed=11, speed=speed, clock_speed=0, notifier=False) as running:
            mturk = running.client()
            for _ in range(4):
                create_hit(
                    mturk,
                    MaxAssignments=3,
                    Question=QUESTION_FORM,
                    AssignmentDurationInSeconds=3600,
                    AutoApprovalDelayInSeconds=86400,
                )
            assert running.control.get("crowd")["speed"] == speed
            start = running.control.get("clock")["now"]
            running.control.post("crowd", {"count": 8, "running": True})
            for _ in range(10):
                running.control.advance(seconds / 10)
            # Only the advances moved the (frozen) clock: the crowd's pace never does.
            assert running.control.get("clock")["now"] - start == pytest.approx(seconds, abs=1e-3)
            rows = running.control.truth("assignments")["assignments"]
            outcome = sorted((a["WorkerId"], a["HITId"], a["AssignmentStatus"]) for a in rows)
            return outcome, rows

    slow, slow_rows = run(1, 600)
    fast, fast_rows = run(10, 60)
    assert fast == slow and any(status == "Submitted" for _, _, status in fast)
    for rows in (slow_rows, fast_rows):
        for a in rows:
            assert a["Deadline"] - a["AcceptTime"] == pytest.approx(3600, abs=0.002)
            if a["AssignmentStatus"] == "Submitted":
                assert a["AutoApprovalTime"] - a["SubmitTime"] == pytest.approx(86400, abs=0.002)
    work_slow = sorted(a["SubmitTime"] - a["AcceptTime"] for a in slow_rows if "SubmitTime" in a)
    work_fast = sorted(a["SubmitTime"] - a["AcceptTime"] for a in fast_rows if "SubmitTime" in a)
    assert work_fast == pytest.approx([t / 10 for t in work_slow], abs=0.01)


def test_the_crowd_speed_can_be_changed_and_is_validated(emu):
    assert emu.control.post("crowd", {"speed": 4})["speed"] == 4
    assert emu.control.get("clock")["crowd_speed"] == 4
    for bad in (0, -1, "fast", True):
        with pytest.raises(ControlError) as excinfo:
            emu.control.post("crowd", {"speed": bad})
        assert excinfo.value.status == 400


def test_reset_gives_a_fresh_emulator(emu, mturk):
    """Before issue 11 a reset kept SNS subscriptions, the clock's speed and its lead."""
    hit = create_hit(mturk)
    work(emu, hit["HITId"], "AW1")
    emu.control.post(
        "sns/subscriptions",
        {
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:reset-test",
            # Nothing listens here: the confirmation waits for its retries.
            "Endpoint": "http://127.0.0.1:9/webhook",
        },
    )
    assert emu.control.get("sns/subscriptions")["Subscriptions"]
    emu.control.post("clock", {"speed": 3})
    emu.control.advance(86400)
    emu.control.post("crowd", {"speed": 7, "count": 2, "running": True})
    emu.control.set_faults(throttle_rate=0.5, drop_rate=0.5)

    emu.control.reset(seed=1)

    assert emu.control.get("sns/subscriptions")["Subscriptions"] == []
    notifications = emu.control.get("notifications")
    assert notifications["stats"]["pending"] == 0 and notifications["deliveries"] == []
    assert notifications["stats"]["confirmations_sent"] == 0
    clock = emu.control.get("clock")
    assert clock["speed"] == 1 and clock["crowd_speed"] == 1
    assert abs(clock["offset"]) < 0.01 and abs(clock["now"] - time.time()) < 1
    crowd = emu.control.get("crowd")
    assert crowd["running"] is False and crowd["workers"] == []
    faults = emu.control.get("faults")
    assert faults["throttle_rate"] == 0 and faults["drop_rate"] == 0
    assert mturk.list_hits()["NumResults"] == 0
    truth = emu.control.truth("assignments", "workers")
    assert truth["assignments"] == [] and truth["workers"] == []


def test_reset_keeps_what_the_server_was_started_with():
    with run_emulator(seed=4, crowd=3, speed=5, clock_speed=0) as running:
        control = running.control
        started = control.get("crowd")
        assert started["running"] is True and started["speed"] == 5
        assert len(started["workers"]) == 3
        control.post("crowd", {"count": 4, "speed": 1, "running": False})
        control.post("clock", {"speed": 1})
        control.reset()
        again = control.get("crowd")
        assert again["running"] is True and again["speed"] == 5
        # The same seed draws the same crowd as at start.
        assert [w["WorkerId"] for w in again["workers"]] == [
            w["WorkerId"] for w in started["workers"]
        ]
        clock = control.get("clock")
        # Back to the wall clock, frozen again as started (--clock-speed 0).
        assert clock["speed"] == 0 and abs(clock["offset"]) < 0.5
        # Another seed, another crowd (of the same size).
        control.reset(seed=5)
        other = control.get("crowd")["workers"]
        assert len(other) == 3
        assert {w["WorkerId"] for w in other} != {w["WorkerId"] for w in started["workers"]}
