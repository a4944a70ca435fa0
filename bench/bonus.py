"""Bulk-bonus budget: pay N bonuses from one uploaded file through one "bonus.pay" job, and
measure the job's throughput against the account's rate limit. Target (DESIGN.md, "Performance
budgets"; issue 12): rate_ratio >= 0.9, zero duplicates, zero missing.

    .venv/bin/python bench/bonus.py [--n 2000] [--rate 25] [--per-hit 9]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/bonus.py

Like bench/decide.py (whose helpers from bench/sync.py it uses): tests.settings, a throw-away
database beside the configured one, the emulator in its own process filled with
/_emulator/populate and mirrored by one full sync. The bonus file (one row per submitted
assignment) goes the way the upload page sends it: planned (`plan_bonus_file`), kept
(`save_run`), confirmed (`start_run`: the ledger rows and the job), then the job runs in this
process (`run_job`, as a worker would) through the gateway and the account's rate limiter.

Figures: bonuses_per_second = N / the job's wall time; rate_ratio = that / --rate; send_calls is
what the emulator counted; duplicates counts ledger rows the emulator paid more than once and
missing those it did not pay (its truth, ListBonusPayments' source). Progress goes to stderr; one
JSON line of figures is printed last on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections import Counter
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

AMOUNT = "0.25"


def bonus_file(account, n: int) -> bytes:
    """One bonus row per submitted assignment, as a lab would upload it."""
    import csv
    import io

    from hits.models import Assignment

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["WorkerId", "AssignmentId", "BonusAmount", "Reason"])
    for worker_id, assignment_id in (
        Assignment.objects.filter(account=account, status="Submitted")
        .order_by("pk")
        .values_list("worker__worker_id", "assignment_id")[:n]
    ):
        writer.writerow([worker_id, assignment_id, AMOUNT, "Thank you for your careful work"])
    return out.getvalue().encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="bonuses to pay")
    parser.add_argument("--rate", type=float, default=25.0, help="the account's calls per second")
    parser.add_argument("--per-hit", type=int, default=9, help="submitted assignments per HIT")
    args = parser.parse_args()
    hits = math.ceil(args.n / args.per_hit)

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    load_before = os.getloadavg()[0]
    with emulator_and_database("bonus") as (base_url, _server):
        populate(base_url, hits, args.per_hit)

        from dashboard.enums import JobState
        from dashboard.jobs import run_job
        from mirror.sync import run_sync
        from people.models import Bonus
        from people.services.bonus_upload import plan_bonus_file, save_run, start_run

        account = make_account(base_url)
        started = time.perf_counter()
        assert run_sync(account=account, kind="full").ok
        log(f"synced in {time.perf_counter() - started:.1f} s")

        data = bonus_file(account, args.n)
        started = time.perf_counter()
        plan = plan_bonus_file(account=account, data=data)
        assert plan.ok, (plan.errors, plan.problems[:5], plan.refusals)
        run = save_run(account=account, filename="bench.csv", data=data, requested_by=None)
        job = start_run(account=account, run=run, requested_by=None)
        n = Bonus.objects.filter(job=job).count()
        log(f"planned and recorded {n} bonuses in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        account.rate_limit_per_second = args.rate
        account.save(update_fields=["rate_limit_per_second"])
        log(f"running the job at {args.rate:g} calls/s")
        calls_before = api_calls(base_url)
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            state = run_job(job_id=job.pk)
            seconds = time.perf_counter() - started
        send_calls = api_calls(base_url)["SendBonus"] - calls_before["SendBonus"]
        log(f"job {state} in {seconds:.1f} s")

        paid = Counter(
            (b["WorkerId"], b["AssignmentId"])
            for b in control(base_url, "truth?sections=bonuses")["bonuses"]
        )
        rows = list(Bonus.objects.filter(job=job).values_list("worker_id", "assignment_id"))
        states = dict(
            Bonus.objects.filter(job=job).values_list("state").annotate(n=Count("pk")).order_by()
        )
        rate = n / seconds if seconds else 0.0
        figures = {
            "bench": "bonus",
            "database": connection.vendor,
            "broker": "redis" if settings.CELERY_BROKER_IS_REDIS else "filesystem",
            "bonuses": n,
            "rate_limit_per_second": args.rate,
            "burst": settings.MTURK_RATE_LIMIT_BURST,
            "job_state": state,
            "job_seconds": round(seconds, 2),
            "bonuses_per_second": round(rate, 2),
            "rate_ratio": round(rate / args.rate, 3),
            "send_calls": send_calls,
            "bonus_states": states,
            "duplicates": sum(1 for row in rows if paid[row] > 1),
            "missing": sum(1 for row in rows if paid[row] < 1),
            "queries_per_bonus": round(counter.total / n, 2) if n else None,
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        figures["target_rate_ratio_at_least_0_9"] = figures["rate_ratio"] >= 0.9
        figures["target_zero_duplicates_and_missing"] = (
            figures["duplicates"] == 0 and figures["missing"] == 0 and state == JobState.SUCCEEDED
        )
        print(json.dumps(figures))
        return 0


if __name__ == "__main__":
    sys.exit(main())
