"""Bulk-decision budget: approve N submitted assignments through one "review.decide" job, the way
the review grid's "every matching row" does, and measure its throughput against the account's rate
limit. Target (DESIGN.md, "Performance budgets"): 10,000 assignments at a throughput within 10% of
the configured rate limit, and zero duplicates (each assignment approved exactly once at MTurk).

    .venv/bin/python bench/decide.py [--assignments 10000] [--rate 25] [--per-hit 9]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/decide.py

Like bench/sync.py (whose helpers it uses): tests.settings, a throw-away database beside the
configured one, and the emulator in its own process, filled with /_emulator/populate (HITs of
`--per-hit` submitted assignments; 9 keeps the 20% fee tier). The account is synced once, then the
decisions are recorded (`request_decisions`, one intent row each) and the job runs in this process
(`run_job`, as a worker would run it), sending ApproveAssignment through the gateway and the
account's rate limiter (in Redis when CELERY_BROKER_URL is Redis, else in this process).

Figures: decisions_per_second = N / the job's wall time; rate_ratio = that / --rate (the limiter
lets a burst of MTURK_RATE_LIMIT_BURST calls through at once, so a short run can sit a little above
1); approve_calls is what the emulator counted; duplicates counts assignments MTurk approved more
than once (its truth, ApproveCount > 1) and not_approved those still not approved. The ceiling of
one worker, without the limiter in the way, is what `--rate 1000` measures. Progress goes to stderr;
one JSON line of figures is printed last on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench._common import QueryCounter, log  # noqa: E402
from bench.sync import (  # noqa: E402
    api_calls,
    control,
    emulator_and_database,
    make_account,
    populate,
)


def record_decisions(account, n: int):
    """The job and its N approval intents, as the bulk view records them."""
    from django.db import transaction

    from dashboard.jobs import start_job
    from hits.enums import DecisionAction
    from hits.models import Assignment
    from hits.services import request_decisions

    with transaction.atomic():
        job = start_job(account=account, kind="review.decide", title=f"Approve {n} (bench)")
        outcome = request_decisions(
            account=account,
            assignments=Assignment.objects.filter(account=account, status="Submitted")
            .select_related("hit", "worker")
            .iterator(chunk_size=1000),
            action=DecisionAction.APPROVE,
            job=job,
        )
    return job, len(outcome.decisions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignments", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="the account's calls per second")
    parser.add_argument("--per-hit", type=int, default=9, help="submitted assignments per HIT")
    args = parser.parse_args()
    hits = math.ceil(args.assignments / args.per_hit)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    load_before = os.getloadavg()[0]
    with emulator_and_database("decide") as (base_url, _server):
        populate(base_url, hits, args.per_hit)

        from dashboard.enums import JobState
        from dashboard.jobs import run_job
        from hits.models import Assignment, Decision
        from mirror.sync import run_sync

        account = make_account(base_url)
        started = time.perf_counter()
        assert run_sync(account=account, kind="full").ok
        submitted = Assignment.objects.filter(account=account, status="Submitted").count()
        log(f"synced {submitted} submitted assignments in {time.perf_counter() - started:.1f} s")

        job, n = record_decisions(account, submitted)
        # Planner statistics, as autovacuum (or SQLite's optimizer) keeps them in a running system.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        log(f"recorded {n} decisions; running the job at {args.rate:g} calls/s")
        account.rate_limit_per_second = args.rate
        account.save(update_fields=["rate_limit_per_second"])
        calls_before = api_calls(base_url)
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            state = run_job(job_id=job.pk)
            seconds = time.perf_counter() - started
        approve_calls = api_calls(base_url)["ApproveAssignment"] - calls_before["ApproveAssignment"]
        log(f"job {state} in {seconds:.1f} s")

        truth = control(base_url, "truth?sections=assignments")["assignments"]
        approvals = [a["ApproveCount"] for a in truth]
        states = dict(
            Decision.objects.filter(job=job)
            .values_list("state")
            .annotate(n=django.db.models.Count("pk"))
        )
        rate = n / seconds if seconds else 0.0
        figures = {
            "bench": "decide",
            "database": connection.vendor,
            "broker": "redis" if settings.CELERY_BROKER_IS_REDIS else "filesystem",
            "assignments": n,
            "rate_limit_per_second": args.rate,
            "burst": settings.MTURK_RATE_LIMIT_BURST,
            "job_state": state,
            "job_seconds": round(seconds, 2),
            "decisions_per_second": round(rate, 2),
            "rate_ratio": round(rate / args.rate, 3),
            "approve_calls": approve_calls,
            "decision_states": states,
            "duplicates": sum(1 for count in approvals if count > 1),
            "not_approved": sum(1 for count in approvals if count < 1),
            "queries_per_decision": round(counter.total / n, 2) if n else None,
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        figures["target_within_10pct_of_rate"] = abs(figures["rate_ratio"] - 1) <= 0.10
        figures["target_zero_duplicates"] = (
            figures["duplicates"] == 0
            and figures["not_approved"] == 0
            and state == JobState.SUCCEEDED
        )
        print(json.dumps(figures))
        return 0


if __name__ == "__main__":
    sys.exit(main())
