"""`make bench-growth`'s table: cost per unit of work at 1× and 10× and their ratio."""

from __future__ import annotations

from bench.growth import GROWTH, Growth, format_growth, growth_rows, per_unit, plain


def test_cost_per_unit_and_the_ratio_between_the_two_sizes():
    growth = Growth("x", "bench/x.py", "--n", 100, (("ms per item", per_unit("seconds", "n")),))
    (row,) = growth_rows(growth, {"seconds": 2.0, "n": 100}, {"seconds": 30.0, "n": 1000})
    assert row == ("x", "ms per item", "20", "30", "1.50")


def test_a_run_that_gave_no_figures_shows_dashes():
    growth = Growth("x", "bench/x.py", "--n", 100, (("queries", plain("queries")),))
    (row,) = growth_rows(growth, None, {"queries": 12})
    assert row == ("x", "queries", "—", "12", "—")


def test_each_size_is_the_base_times_the_scale():
    sync = next(growth for growth in GROWTH if growth.name == "sync")
    assert sync.bench(10).args[:2] == ("--hits", str(sync.base * 10))
    assert sync.bench(1).name == "growth-sync-1x"


def test_the_table_has_a_header_and_a_rule():
    text = format_growth([("x", "ms per item", "20", "30", "1.50")])
    header, rule, line = text.splitlines()
    assert header.split()[:2] == ["benchmark", "figure"] and set(rule) <= {"-", " "}
    assert line.split()[-1] == "1.50"
