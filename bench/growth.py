"""`make bench-growth`: how each benchmark's cost grows from 1× to 10× the work, in one table.

    .venv/bin/python bench/growth.py [--only sync,review] [--out var/bench]

Each benchmark runs twice, at a base size and at ten times it, and the table shows its cost per
unit of work (or its per-request figure) at both and the ratio: about 1 means the cost grows
linearly with the work (per-request figures: stays flat), above 1 that it grows faster. The bulk
jobs run at 1,000 calls/s so what grows is the dashboard's own cost, not the configured rate
limit's wait. Raw JSON lines go to var/bench/growth-<name>-<scale>x.json like `make bench`'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run_all import ROOT, Bench, run_bench  # noqa: E402

Figure = Callable[[dict[str, Any]], float | None]


def per_unit(seconds: str, units: str, scale: float = 1000.0) -> Figure:
    """Milliseconds (by default) of `seconds` per one of `units`."""

    def figure(figures: dict[str, Any]) -> float | None:
        total, count = figures.get(seconds), figures.get(units)
        if not isinstance(total, int | float) or not isinstance(count, int | float) or not count:
            return None
        return total * scale / count

    return figure


def plain(name: str) -> Figure:
    def figure(figures: dict[str, Any]) -> float | None:
        value = figures.get(name)
        return float(value) if isinstance(value, int | float) else None

    return figure


@dataclass(frozen=True)
class Growth:
    name: str
    script: str
    size_flag: str
    base: int
    figures: tuple[tuple[str, Figure], ...]
    extra: tuple[str, ...] = ()

    def bench(self, scale: int) -> Bench:
        return Bench(
            f"growth-{self.name}-{scale}x",
            self.script,
            (self.size_flag, str(self.base * scale), *self.extra),
            (),
        )


UNBOUNDED = ("--rate", "1000")
GROWTH: tuple[Growth, ...] = (
    Growth(
        "sync",
        "bench/sync.py",
        "--hits",
        1000,
        (
            ("first sync ms per HIT (× 3 assignments)", per_unit("first_sync_seconds", "hits")),
            ("queries per ListHITs page", plain("queries_per_page")),
            ("API calls over the minimum (%)", plain("first_sync_api_overhead_pct")),
        ),
    ),
    Growth(
        "review",
        "bench/review.py",
        "--hits",
        1000,
        (
            ("grid p95 ms (page of 100)", plain("page_100_p95_ms")),
            ("grid queries (page of 100)", plain("page_100_queries")),
        ),
    ),
    Growth(
        "decide",
        "bench/decide.py",
        "--assignments",
        1000,
        (
            ("ms per decision", per_unit("job_seconds", "assignments")),
            ("queries per decision", plain("queries_per_decision")),
        ),
        UNBOUNDED,
    ),
    Growth(
        "bonus",
        "bench/bonus.py",
        "--n",
        200,
        (
            ("ms per bonus", per_unit("job_seconds", "bonuses")),
            ("queries per bonus", plain("queries_per_bonus")),
        ),
        UNBOUNDED,
    ),
    Growth(
        "qualify",
        "bench/qualify.py",
        "--n",
        200,
        (
            ("ms per grant", per_unit("job_seconds", "grants")),
            ("queries per grant", plain("queries_per_grant")),
        ),
        UNBOUNDED,
    ),
    Growth(
        "publish",
        "bench/publish.py",
        "--n",
        200,
        (("ms per HIT created", per_unit("job_seconds", "hits_requested")),),
        UNBOUNDED,
    ),
)


def growth_rows(
    growth: Growth, small: dict[str, Any] | None, large: dict[str, Any] | None
) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for label, figure in growth.figures:
        one = figure(small) if small else None
        ten = figure(large) if large else None
        ratio = f"{ten / one:.2f}" if one and ten is not None else "—"
        rows.append(
            (
                growth.name,
                label,
                "—" if one is None else f"{one:.3g}",
                "—" if ten is None else f"{ten:.3g}",
                ratio,
            )
        )
    return rows


def format_growth(rows: Sequence[tuple[str, str, str, str, str]]) -> str:
    header = ("benchmark", "figure", "1×", "10×", "10× / 1×")
    cells = [header, *rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench"))
    args = parser.parse_args(argv)
    chosen = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = chosen - {growth.name for growth in GROWTH}
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"database: {os.environ.get('DATABASE_URL') or 'SQLite'}")
    rows = []
    for growth in GROWTH:
        if chosen and growth.name not in chosen:
            continue
        small, _ = run_bench(growth.bench(1), out)
        large, _ = run_bench(growth.bench(10), out)
        rows.extend(growth_rows(growth, small, large))
    print()
    print(format_growth(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
