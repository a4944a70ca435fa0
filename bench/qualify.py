"""Bulk-grant budget: grant a qualification to N workers from one uploaded file through one
QUALIFICATION_GRANT job, and measure the job's throughput against the account's rate limit.
Target (DESIGN.md, "Performance budgets"; issue 13): rate_ratio >= 0.9, zero duplicates, zero
missing.

    .venv/bin/python bench/qualify.py [--n 2000] [--rate 25]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/qualify.py

Like bench/bonus.py: tests.settings, a throw-away database beside the configured one, the
emulator in its own process (no HITs needed: MTurk grants a type to any worker id). The type is
made at MTurk, the file of `WorkerId,Value` rows goes the way the upload page sends it: planned
(`plan_grant_file`), kept (`save_upload`), confirmed (`start_upload`: the grant rows and the job),
then the job runs in this process (`run_job`, as a worker would) through the gateway and the
account's rate limiter.

Figures: grants_per_second = N / the job's wall time; rate_ratio = that / --rate. No faults are
injected, so every AssociateQualificationWithWorker the emulator counted was applied:
duplicates = those calls beyond one per worker, missing = workers the emulator's truth does not
show holding the file's value. Progress goes to stderr; one JSON line of figures is printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench._common import QueryCounter, log  # noqa: E402
from bench.sync import api_calls, control, emulator_and_database, make_account  # noqa: E402

OPERATION = "AssociateQualificationWithWorker"


def grant_file(n: int) -> tuple[bytes, dict[str, int]]:
    values = {f"ABENCH{i:09d}": i % 100 for i in range(n)}
    text = "WorkerId,Value\n" + "".join(f"{w},{v}\n" for w, v in values.items())
    return text.encode(), values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="workers to grant")
    parser.add_argument("--rate", type=float, default=25.0, help="the account's calls per second")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count

    load_before = os.getloadavg()[0]
    with emulator_and_database("qualify") as (base_url, _server):
        from dashboard.enums import IntentState, JobState
        from dashboard.jobs import run_job
        from dashboard.mturk_access import account_gateway
        from qualifications.enums import GrantAction
        from qualifications.models import QualificationGrant
        from qualifications.services import (
            create_type,
            plan_grant_file,
            save_upload,
            start_upload,
        )

        account = make_account(base_url)
        with account_gateway(account) as gateway:
            qtype = create_type(
                account=account, gateway=gateway, name="Bench grants", description="bench"
            )
        data, values = grant_file(args.n)
        started = time.perf_counter()
        plan = plan_grant_file(qualification_type=qtype, data=data, action=GrantAction.GRANT)
        assert plan.ok, (plan.errors, plan.problems[:5])
        upload = save_upload(
            qualification_type=qtype,
            action=GrantAction.GRANT,
            reason="",
            send_notification=False,
            filename="bench.csv",
            data=data,
            requested_by=None,
        )
        job = start_upload(upload=upload, requested_by=None)
        n = QualificationGrant.objects.filter(job=job).count()
        log(f"planned and recorded {n} grants in {time.perf_counter() - started:.1f} s")
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
        send_calls = api_calls(base_url)[OPERATION] - calls_before[OPERATION]
        log(f"job {state} in {seconds:.1f} s")

        held = {
            q["WorkerId"]: (q["Status"], q.get("IntegerValue"))
            for q in control(base_url, "truth?sections=qualifications")["qualifications"]
            if q["QualificationTypeId"] == qtype.qualification_type_id
        }
        missing = sum(1 for w, v in values.items() if held.get(w) != ("Granted", v))
        states = dict(
            QualificationGrant.objects.filter(job=job)
            .values_list("state")
            .annotate(n=Count("pk"))
            .order_by()
        )
        rate = n / seconds if seconds else 0.0
        figures = {
            "bench": "qualify",
            "database": connection.vendor,
            "broker": "redis" if settings.CELERY_BROKER_IS_REDIS else "filesystem",
            "grants": n,
            "rate_limit_per_second": args.rate,
            "burst": settings.MTURK_RATE_LIMIT_BURST,
            "job_state": state,
            "job_seconds": round(seconds, 2),
            "grants_per_second": round(rate, 2),
            "rate_ratio": round(rate / args.rate, 3),
            "send_calls": send_calls,
            "grant_states": states,
            "duplicates": max(0, send_calls - (len(values) - missing)),
            "missing": missing,
            "queries_per_grant": round(counter.total / n, 2) if n else None,
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        figures["target_rate_ratio_at_least_0_9"] = figures["rate_ratio"] >= 0.9
        figures["target_zero_duplicates_and_missing"] = (
            figures["duplicates"] == 0
            and figures["missing"] == 0
            and state == JobState.SUCCEEDED
            and set(states) <= {IntentState.DONE}
        )
        print(json.dumps(figures))
        return 0


if __name__ == "__main__":
    sys.exit(main())
