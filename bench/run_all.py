"""`make bench`: run every benchmark, keep each one's raw JSON line under var/bench/, and print one
table of figure, value, target and pass/fail.

    .venv/bin/python bench/run_all.py [--only sync,review] [--out var/bench]

Each benchmark runs as its own process with the environment it is given (DATABASE_URL and
CELERY_BROKER_URL choose PostgreSQL and Redis; `make bench` defaults them), its progress going to
var/bench/<name>.log and its last stdout line (one JSON object) to var/bench/<name>.json. The
targets are DESIGN.md's "Performance budgets" and the issues' (in `BENCHES` below, one place).
A benchmark that fails to run, or prints no JSON, is a failed row. Exits 1 when any row fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Check:
    """One figure of a benchmark's JSON line and its target. `passes` None: reported, no target."""

    figure: str
    target: str = "—"
    passes: Callable[[Any, dict[str, Any]], bool] | None = None


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...]
    checks: tuple[Check, ...]


def at_least(limit: float) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: value is not None and value >= limit


def below(limit: float) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: value is not None and value < limit


def at_most(limit: float) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: value is not None and value <= limit


def equals(expected: Any) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, _figures: value == expected


def reported(value: Any, _figures: dict[str, Any]) -> bool:
    return value is not None


def equals_figure(other: str) -> Callable[[Any, dict[str, Any]], bool]:
    return lambda value, figures: value is not None and value == figures.get(other)


RATE = Check("rate_ratio", "≥ 0.9 of the rate limit", at_least(0.9))
NO_DUPLICATES = Check("duplicates", "0", equals(0))

BENCHES: tuple[Bench, ...] = (
    Bench(
        "emulator",
        "bench/emulator.py",
        (),
        (
            Check("light_calls_per_s_1_thread"),
            Check("boto3_calls_per_s_1_thread"),
            Check("list_hits_ms_per_page"),
            Check(
                "balance_ms_big",
                "≤ 2 × balance_ms_small (does not grow with the HITs)",
                lambda value, figures: (
                    value is not None and value <= 2 * max(figures.get("balance_ms_small") or 0, 1)
                ),
            ),
        ),
    ),
    # The emulator answers in about a millisecond, so the client's CPU bounds a first sync: it is
    # measured with the calls made by 2 worker processes (SYNC_FETCH_PROCESSES, for exactly this
    # case), and again with the default, the sync's own threads.
    Bench(
        "sync",
        "bench/sync.py",
        ("--fetch-processes", "2"),
        (
            Check("first_sync_seconds", "< 60 s (10,000 HITs × 3)", below(60)),
            Check("first_sync_api_overhead_pct", "≤ 2% over the pagination minimum", at_most(2)),
            Check("incremental_api_overhead_pct", "≤ 2% over the pagination minimum", at_most(2)),
            Check("wall_to_floor_ratio", "≤ 1.5 × the boto3 floor", at_most(1.5)),
            Check(
                "replay_to_floor_ratio",
                "reported (the same calls through plain boto3, no database)",
                reported,
            ),
            Check("queries_per_page"),
        ),
    ),
    Bench(
        "sync_threads",
        "bench/sync.py",
        ("--fetch-processes", "0"),
        (
            Check("first_sync_seconds", "reported (the default: the sync's threads)", reported),
            Check("wall_to_floor_ratio", "reported (the default: the sync's threads)", reported),
        ),
    ),
    Bench(
        "review",
        "bench/review.py",
        (),
        tuple(
            Check(f"page_{size}_p95_ms", "< 150 ms (3,000 assignments)", below(150))
            for size in (25, 100, 500)
        )
        + (Check("queries_same_for_every_page_size", "true", equals(True)),),
    ),
    Bench(
        "review_30k",
        "bench/review.py",
        ("--hits", "10000"),
        tuple(
            Check(f"page_{size}_p95_ms", "< 150 ms (30,000 assignments)", below(150))
            for size in (25, 100, 500)
        )
        + (Check("queries_same_for_every_page_size", "true", equals(True)),),
    ),
    Bench(
        "notifications",
        "bench/notifications.py",
        (),
        (
            Check("sqs_events", "10,000", equals(10_000)),
            Check("sqs_seconds", "< 60 s", below(60)),
            Check("sqs_moto_floor_seconds", "reported (moto alone, same messages)", reported),
            Check("sqs_all_applied", "true", equals(True)),
            Check("sqs_apply_seconds"),
            Check("webhook_p95_ms", "< 20 ms at 200 requests/s", below(20)),
            Check("webhook_errors", "0", equals(0)),
            Check("webhook_all_applied", "true", equals(True)),
            Check("lost", "0", equals(0)),
            Check("applied_twice", "0", equals(0)),
        ),
    ),
    Bench(
        "pages",
        "bench/pages.py",
        (),
        tuple(
            Check(f"{page}_p95_ms")
            for page in ("overview", "hit_list", "review_grid", "side_by_side", "worker_page")
        )
        + (Check("errors", "0", equals(0)),),
    ),
    Bench(
        "decide",
        "bench/decide.py",
        (),
        (RATE, NO_DUPLICATES, Check("not_approved", "0", equals(0))),
    ),
    Bench("bonus", "bench/bonus.py", (), (RATE, NO_DUPLICATES, Check("missing", "0", equals(0)))),
    Bench(
        "qualify", "bench/qualify.py", (), (RATE, NO_DUPLICATES, Check("missing", "0", equals(0)))
    ),
    Bench(
        "publish",
        "bench/publish.py",
        (),
        (
            RATE,
            NO_DUPLICATES,
            Check("hits_created", "= hits_requested", equals_figure("hits_requested")),
        ),
    ),
    Bench(
        "scaleout",
        "bench/scaleout.py",
        (),
        (
            NO_DUPLICATES,
            Check("missing", "0", equals(0)),
            Check("not_approved", "0", equals(0)),
            Check(
                "max_rate_deviation", "≤ 0.1 (each account within 10% of its limit)", at_most(0.1)
            ),
            Check("one_worker_seconds"),
            Check("three_workers_seconds"),
            Check("speed_up", "reported (the limits allow speed_up_allowed)", reported),
            Check("speed_up_allowed"),
        ),
    ),
    Bench(
        "publish_estimate",
        "bench/publish.py",
        ("--n", "100", "--measure-estimate"),
        (Check("estimate_error_cents", "0", equals(0)),),
    ),
)


@dataclass(frozen=True)
class Row:
    bench: str
    figure: str
    value: str
    target: str
    verdict: str  # "pass", "FAIL" or "" (no target)

    @property
    def failed(self) -> bool:
        return self.verdict == "FAIL"


def evaluate(bench: Bench, figures: dict[str, Any] | None, problem: str = "") -> list[Row]:
    """The table rows of one benchmark's figures (None: it did not run; `problem` says why)."""
    if figures is None:
        return [Row(bench.name, "(did not run)", problem or "no JSON line", "runs", "FAIL")]
    rows = []
    for check in bench.checks:
        value = figures.get(check.figure)
        if check.passes is None:
            verdict = ""
        else:
            verdict = "pass" if check.passes(value, figures) else "FAIL"
        shown = "missing" if check.figure not in figures else json.dumps(value)
        rows.append(Row(bench.name, check.figure, shown, check.target, verdict))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    header = ("benchmark", "figure", "value", "target", "result")
    cells = [header] + [(r.bench, r.figure, r.value, r.target, r.verdict) for r in rows]
    widths = [max(len(str(line[i])) for line in cells) for i in range(len(header))]
    lines = []
    for n, line in enumerate(cells):
        lines.append(
            "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
        )
        if n == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def last_json_line(text: str) -> dict[str, Any] | None:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def run_bench(bench: Bench, out: Path) -> tuple[dict[str, Any] | None, str]:
    """Run one benchmark; its stderr to <out>/<name>.log, its JSON line to <out>/<name>.json."""
    started = time.monotonic()
    print(f"[{time.strftime('%H:%M:%S')}] {bench.name}: {bench.script} {' '.join(bench.args)}")
    with open(out / f"{bench.name}.log", "w") as log:
        result = subprocess.run(
            [sys.executable, str(ROOT / bench.script), *bench.args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    figures = last_json_line(result.stdout)
    seconds = time.monotonic() - started
    print(f"[{time.strftime('%H:%M:%S')}] {bench.name}: exit {result.returncode} in {seconds:.0f}s")
    if figures is None or result.returncode != 0:
        problem = f"exit {result.returncode}; see {out / (bench.name + '.log')}"
        return figures if result.returncode == 0 else None, problem
    (out / f"{bench.name}.json").write_text(json.dumps(figures) + "\n")
    return figures, ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = chosen - {bench.name for bench in BENCHES}
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"database: {os.environ.get('DATABASE_URL') or 'SQLite'}; "
        f"broker: {os.environ.get('CELERY_BROKER_URL') or 'filesystem'}"
    )
    rows: list[Row] = []
    for bench in BENCHES:
        if chosen and bench.name not in chosen:
            continue
        figures, problem = run_bench(bench, out)
        rows.extend(evaluate(bench, figures, problem))
    print()
    print(format_table(rows))
    failed = sum(row.failed for row in rows)
    print(f"\n{len(rows)} figures, {failed} failed; raw JSON lines in {out}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
