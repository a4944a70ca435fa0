"""Publish budget: publish N HITs from one inputs file through one "publish.batch" job, and
measure the job's throughput against the account's rate limit. Target (DESIGN.md, "Performance
budgets"; issue 14): rate_ratio >= 0.9, zero duplicates, hits_created = hits_requested.

    .venv/bin/python bench/publish.py [--n 2000] [--rate 25] [--measure-estimate]

Like bench/bonus.py: tests.settings, a throw-away database beside the configured one, the
emulator in its own process. The batch goes the way the pages send it: a draft with its dry run
(`create_draft`), confirmed (`start_publish`: the HITRequest rows and the job), then the job runs
in this process (`run_job`, as a worker would) through the gateway and the account's rate limiter.

Figures: hits_per_second = N / the job's wall time; rate_ratio = that / --rate; create_calls is
what the emulator counted; duplicates counts rows with more than one HIT at the emulator (by
the item in each HIT's RequesterAnnotation) and hits_created the rows with exactly one.
With --measure-estimate a worker answers every HIT, each answer is approved, and
estimate_error_cents is the estimate minus the emulator's balance change (else null). Progress
goes to stderr; one JSON line of figures is printed last on stdout.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench._common import log  # noqa: E402
from bench.sync import api_calls, control, emulator_and_database, make_account  # noqa: E402

TEMPLATE = (
    "<!DOCTYPE html><html><body><form name='mturk_form' method='post' "
    "action='https://www.mturk.com/mturk/externalSubmit'>"
    "<input type='hidden' name='assignmentId' value=''><p>Describe ${item} (${colour})</p>"
    "<textarea name='description'></textarea><input type='submit'></form></body></html>"
)


def inputs_file(n: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item", "colour"])
    for i in range(n):
        writer.writerow([f"item {i}", ("red", "green", "blue")[i % 3]])
    return out.getvalue().encode()


def balance(base_url: str) -> Decimal:
    return Decimal(control(base_url, "truth?sections=balance")["balance"]["AvailableBalance"])


def answer_and_approve(base_url: str, account, hit_ids: list[str]) -> None:
    """One worker answers each HIT; every answer is approved through the gateway."""
    from dashboard.mturk_access import account_gateway

    worker_id = control(base_url, "workers", {"WorkerId": "ABENCHWORKER"})["WorkerId"]
    assignment_ids = []
    for hit_id in hit_ids:
        accepted = control(base_url, f"workers/{worker_id}/accept", {"HITId": hit_id})
        control(base_url, f"assignments/{accepted['AssignmentId']}/submit", {"answers": {"a": "x"}})
        assignment_ids.append(accepted["AssignmentId"])
    with account_gateway(account) as gateway:
        for assignment_id in assignment_ids:
            gateway.approve_assignment(assignment_id=assignment_id)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2_000, help="HITs to publish")
    parser.add_argument("--rate", type=float, default=25.0, help="the account's calls per second")
    parser.add_argument(
        "--measure-estimate",
        action="store_true",
        help="answer and approve every HIT, then compare the estimate with the balance change",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    load_before = os.getloadavg()[0]
    with emulator_and_database("publish") as (base_url, _server):
        from dashboard.jobs import run_job
        from mturk.batches import batch_of
        from publishing.enums import TemplateKind
        from publishing.models import HITRequest, QuestionTemplate
        from publishing.publish import create_draft, start_publish

        account = make_account(base_url)
        account.rate_limit_per_second = args.rate
        account.save(update_fields=["rate_limit_per_second"])
        template = QuestionTemplate.objects.create(
            account=account, name="Bench", kind=TemplateKind.HTML, content=TEMPLATE
        )
        started = time.perf_counter()
        batch, plan = create_draft(
            account=account,
            label="bench-publish",
            template=template,
            hit_settings={
                "title": "Describe an item",
                "description": "A sentence about the item",
                "keywords": "bench",
                "reward": "0.10",
                "max_assignments": 1,
                "assignment_duration_seconds": 600,
                "lifetime_seconds": 86400,
                "auto_approval_delay_seconds": 86400,
            },
            requirements=[],
            micro_batching=False,
            inputs_filename="bench.csv",
            inputs=inputs_file(args.n),
            requested_by=None,
        )
        assert plan.ok, (plan.errors, plan.problems[:5], plan.refusals)
        job = start_publish(batch=batch, requested_by=None)
        requested = HITRequest.objects.filter(job=job).count()
        log(f"planned and recorded {requested} HITs in {time.perf_counter() - started:.1f} s")

        before = balance(base_url)
        calls_before = api_calls(base_url)
        log(f"running the job at {args.rate:g} calls/s")
        started = time.perf_counter()
        state = run_job(job_id=job.pk)
        seconds = time.perf_counter() - started
        calls = api_calls(base_url)
        create_calls = calls["CreateHITWithHITType"] - calls_before["CreateHITWithHITType"]
        log(f"job {state} in {seconds:.1f} s")

        per_item: Counter = Counter()
        hit_ids = []
        for hit in control(base_url, "truth?sections=hits")["hits"]:
            annotation = hit.get("RequesterAnnotation") or ""
            label = batch_of(annotation)
            if label is None or label.name != "bench-publish":
                continue
            item = dict(part.split(":", 1) for part in annotation.split(";"))["item"]
            per_item[item] += 1
            hit_ids.append(hit["HITId"])

        estimate_error_cents = None
        if args.measure_estimate:
            started = time.perf_counter()
            answer_and_approve(base_url, account, hit_ids)
            spent = before - balance(base_url)
            estimate_error_cents = int((Decimal(batch.estimate["total"]) - spent) * 100)
            log(
                f"answered and approved {len(hit_ids)} HITs in {time.perf_counter() - started:.1f} s"
            )

        rate = requested / seconds if seconds else 0.0
        figures = {
            "bench": "publish",
            "database": django.db.connection.vendor,
            "broker": "redis" if settings.CELERY_BROKER_IS_REDIS else "filesystem",
            "hits_requested": requested,
            "hits_created": sum(1 for n in per_item.values() if n == 1),
            "duplicates": sum(1 for n in per_item.values() if n > 1),
            "rate_limit_per_second": args.rate,
            "burst": settings.MTURK_RATE_LIMIT_BURST,
            "job_state": state,
            "job_seconds": round(seconds, 2),
            "hits_per_second": round(rate, 2),
            "rate_ratio": round(rate / args.rate, 3),
            "create_calls": create_calls,
            "estimate_total": batch.estimate["total"],
            "estimate_error_cents": estimate_error_cents,
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        figures["target_rate_ratio_at_least_0_9"] = figures["rate_ratio"] >= 0.9
        figures["target_zero_duplicates_all_created"] = (
            figures["duplicates"] == 0 and figures["hits_created"] == requested
        )
        print(json.dumps(figures))
        return 0


if __name__ == "__main__":
    sys.exit(main())
