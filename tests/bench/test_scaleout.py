"""bench/scaleout.py's measure of an account's steady rate from the emulator's call counts."""

from __future__ import annotations

from collections import Counter

from bench.scaleout import steady_rate


def series(points: list[tuple[float, int, int]]) -> list[tuple[float, Counter]]:
    """(time, sync calls, approvals) samples as the emulator's cumulative call counts."""
    return [
        (t, Counter({"ListHITs": listed, "ApproveAssignment": approved}))
        for t, listed, approved in points
    ]


def test_the_window_runs_from_the_first_approval_seen_to_the_last_busy_sample():
    # A burst of 5 sync calls, then 10 calls/s: syncing for 2 s, then approving until 60 calls.
    samples = series(
        [(0.0, 0, 0), (1.0, 15, 0), (2.0, 25, 0), (3.0, 25, 10), (4.0, 25, 20)]
        + [(5.0, 25, 30), (6.0, 25, 40), (7.0, 25, 50), (8.0, 25, 60), (9.0, 25, 60)]
    )
    rate = steady_rate(samples, Counter())
    # From t=3 to t=7 (the sample at t=8 may hold idle time after the last call): 40 calls in 4 s;
    # the burst before the first approval is left out.
    assert rate == {"calls": 85, "work_calls": 60, "window_seconds": 4.0, "calls_per_second": 10.0}


def test_calls_before_the_run_are_not_counted_and_a_gap_lowers_the_rate():
    baseline = Counter({"ListHITs": 100, "ApproveAssignment": 7})
    samples = series(
        [(0.0, 100, 7), (1.0, 100, 17), (2.0, 100, 17), (3.0, 100, 27), (4.0, 100, 37)]
        + [(5.0, 100, 47), (6.0, 100, 47)]
    )
    rate = steady_rate(samples, baseline)
    assert rate["calls"] == 40
    assert rate["calls_per_second"] == 20 / 3  # t=1 to t=4, one idle second inside


def test_too_short_a_run_has_no_rate():
    samples = series([(0.0, 0, 0), (1.0, 0, 10), (2.0, 0, 10)])
    assert steady_rate(samples, Counter())["calls_per_second"] is None
