"""`make bench`'s table: each benchmark's figures checked against its targets, one table."""

from __future__ import annotations

from bench.run_all import (
    BENCHES,
    Bench,
    Check,
    at_least,
    equals,
    evaluate,
    format_table,
    last_json_line,
)


def bench_named(name: str) -> Bench:
    return next(bench for bench in BENCHES if bench.name == name)


def test_rows_pass_and_fail_by_their_targets():
    rows = evaluate(
        bench_named("publish"),
        {"rate_ratio": 0.95, "duplicates": 0, "hits_created": 1999, "hits_requested": 2000},
    )
    verdicts = {row.figure: row.verdict for row in rows}
    assert verdicts == {"rate_ratio": "pass", "duplicates": "pass", "hits_created": "FAIL"}


def test_a_missing_figure_fails_and_says_so():
    (row,) = evaluate(Bench("x", "bench/x.py", (), (Check("ratio", ">= 1", at_least(1)),)), {})
    assert (row.value, row.verdict) == ("missing", "FAIL")


def test_a_figure_without_a_target_is_reported_only():
    (row,) = evaluate(Bench("x", "bench/x.py", (), (Check("calls"),)), {"calls": 12})
    assert (row.value, row.verdict, row.failed) == ("12", "", False)


def test_a_benchmark_that_did_not_run_is_one_failed_row():
    (row,) = evaluate(bench_named("sync"), None, "exit 1; see var/bench/sync.log")
    assert row.failed and "exit 1" in row.value


def test_the_table_lines_up_its_columns():
    rows = evaluate(Bench("b", "bench/b.py", (), (Check("zero", "0", equals(0)),)), {"zero": 0})
    header, rule, line = format_table(rows).splitlines()
    assert header.split() == ["benchmark", "figure", "value", "target", "result"]
    assert line.split() == ["b", "zero", "0", "0", "pass"]
    assert len(rule) >= len(line)


def test_the_last_json_line_is_the_figures():
    assert last_json_line('{"a": 1}\nnoise\n{"b": 2}\n') == {"b": 2}
    assert last_json_line("no figures\n") is None
    assert last_json_line("{broken\n") is None


def test_every_benchmark_script_exists():
    from bench.run_all import ROOT

    for bench in BENCHES:
        assert (ROOT / bench.script).is_file(), bench.script


def test_the_scale_out_run_fails_on_a_rate_off_by_more_than_ten_percent_or_a_duplicate():
    figures = {
        "duplicates": 0,
        "missing": 0,
        "not_approved": 0,
        "max_rate_deviation": 0.1,
        "one_worker_seconds": 90.0,
        "three_workers_seconds": 61.0,
        "speed_up": 1.48,
        "speed_up_allowed": 1.5,
    }
    assert not any(row.failed for row in evaluate(bench_named("scaleout"), figures))
    worse = {**figures, "max_rate_deviation": 0.12, "duplicates": 1, "speed_up": None}
    failed = {row.figure for row in evaluate(bench_named("scaleout"), worse) if row.failed}
    assert failed == {"max_rate_deviation", "duplicates", "speed_up"}
