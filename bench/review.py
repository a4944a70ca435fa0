"""Review budget: server time and SQL queries of the review grid for a HIT type with 3,000
assignments, at page sizes 25, 100 and 500. Target (DESIGN.md, "Performance budgets"): p95 under
150 ms and a constant number of queries whatever the page size.

    .venv/bin/python bench/review.py [--hits 1000] [--assignments-per-hit 3] [--requests 40]
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench .venv/bin/python bench/review.py

It creates its own data in a throw-away database beside the configured one (see bench/_common.py),
then asks for the grid through Django's test client in this process, so the time measured is the
server's: URL routing, permission checks, queries, the majority analysis and template rendering
(no network). Each page size is requested a few times to warm up, then `--requests` times.
Progress goes to stderr; one JSON line of figures is printed last on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench._common import QueryCounter, log, setup_database, teardown_database  # noqa: E402

PAGE_SIZES = (25, 100, 500)
ANIMALS = ["cat", "dog", "rabbit", "parrot", "hamster"]
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "near",
    "the",
    "river",
    "bank",
    "today",
]


def make_study(hits: int, per_hit: int):
    """One account, one HIT type, `hits` HITs with `per_hit` submitted assignments each, a mix of
    agreeing and disagreeing answers; returns (account, hit_type, staff user)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from dashboard.models import RequesterAccount
    from dashboard.services import save_account
    from hits.models import HIT, Assignment, HITType
    from workers.models import Worker

    rng = random.Random(7)
    account = RequesterAccount(
        slug="bench",
        name="Bench lab",
        environment="emulator",
        endpoint_url="http://127.0.0.1:1/",
        aws_access_key_id="AKIAEMULATOR00000000",
    )
    save_account(account=account, secret_access_key="bench", actor_name="bench")
    user = get_user_model().objects.create_user("bench-staff", password="x")
    user.groups.add(Group.objects.get(name="Research staff"))
    account.members.add(user)
    hit_type = HITType.objects.create(
        account=account,
        hit_type_id="3BENCHHITTYPE000000000000000",
        title="Bench study",
        reward="0.10",
    )
    workers = Worker.objects.bulk_create(
        [Worker(account=account, worker_id=f"ABENCH{n:08d}") for n in range(60)]
    )
    now = timezone.now()
    hit_rows = HIT.objects.bulk_create(
        [
            HIT(
                account=account,
                hit_type=hit_type,
                hit_id=f"3BENCHHIT{n:021d}",
                title="Bench study",
                reward="0.10",
                status="Reviewable",
                max_assignments=per_hit,
                assignments_completed=0,
                question_kind="HTMLQuestion",
                created_at_mturk=now - timedelta(days=1),
            )
            for n in range(hits)
        ],
        batch_size=500,
    )
    hit_rows = list(HIT.objects.filter(account=account).order_by("pk"))
    assignments = []
    for index, hit in enumerate(hit_rows):
        truth = ANIMALS[index % len(ANIMALS)]
        for k in range(per_hit):
            worker = workers[(index * per_hit + k) % len(workers)]
            answer = truth if rng.random() < 0.8 else rng.choice(ANIMALS)
            submitted = now - timedelta(minutes=rng.randint(1, 1440))
            work = rng.randint(10, 600)
            assignments.append(
                Assignment(
                    account=account,
                    hit=hit,
                    hit_type=hit_type,
                    worker=worker,
                    assignment_id=f"3BENCHA{index:09d}{k:02d}{'0' * 12}",
                    status="Submitted",
                    submit_time=submitted,
                    accept_time=submitted - timedelta(seconds=work),
                    work_time_seconds=work,
                    answers={
                        "animal": answer,
                        "blurry": rng.choice(["yes", ""]),
                        "comment": " ".join(rng.choices(WORDS, k=rng.randint(0, 12))),
                    },
                    answer_xml="<QuestionFormAnswers/>",
                )
            )
    Assignment.objects.bulk_create(assignments, batch_size=1000)
    return account, hit_type, user


def measure(client, url: str, page_size: int, requests: int) -> dict:
    from django.db import connection

    for _ in range(3):  # warm up: template loading, first connection, caches
        assert client.get(url, {"page_size": page_size}).status_code == 200
    times, queries = [], []
    for _ in range(requests):
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(url, {"page_size": page_size})
            times.append((time.perf_counter() - started) * 1000)
        assert (
            response.status_code == 200
            and response.content.count(b'class="review-row') == page_size
        )
        queries.append(counter.total)
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
        "max_ms": round(times[-1], 1),
        "queries": max(queries),
        "queries_constant": len(set(queries)) == 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hits", type=int, default=1000)
    parser.add_argument("--assignments-per-hit", type=int, default=3)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.urls import reverse

    tmpdir = tempfile.mkdtemp(prefix="bench-review-")
    old_name = None
    try:
        old_name = setup_database(tmpdir, "benchreview")
        log(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        started = time.perf_counter()
        account, hit_type, user = make_study(args.hits, args.assignments_per_hit)
        log(
            f"created {args.hits * args.assignments_per_hit} assignments in {time.perf_counter() - started:.1f}s"
        )
        # Planner statistics, as autovacuum (or SQLite's optimizer) keeps them in a running system:
        # without them PostgreSQL plans the grid for a handful of rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        # Measure the server as it runs in production: without the test environment's template
        # instrumentation (it records every rendered template for assertions, a large overhead).
        teardown_test_environment()
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        url = reverse(
            "study-detail", kwargs={"slug": account.slug, "hit_type_id": hit_type.hit_type_id}
        )
        figures: dict = {
            "bench": "review",
            "database": connection.vendor,
            "assignments": args.hits * args.assignments_per_hit,
            "hits": args.hits,
            "requests_per_size": args.requests,
            "load_average_1min": round(os.getloadavg()[0], 2),
        }
        for size in PAGE_SIZES:
            result = measure(client, url, size, args.requests)
            log(
                f"page size {size}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {result['queries']} queries"
            )
            for key, value in result.items():
                figures[f"page_{size}_{key}"] = value
        figures["queries_same_for_every_page_size"] = (
            len({figures[f"page_{s}_queries"] for s in PAGE_SIZES}) == 1
        )
        figures["target_p95_under_150ms"] = all(
            figures[f"page_{s}_p95_ms"] < 150 for s in PAGE_SIZES
        )
        print(json.dumps(figures))
        return 0
    finally:
        if old_name is not None:
            setup_test_environment(debug=False)
            teardown_database(old_name)
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
