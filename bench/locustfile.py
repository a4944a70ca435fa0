"""The pages-under-load users of bench/pages.py (Locust). Each user browses with a session of its
own: the account overview, the HIT list, the review grid, a HIT side by side and a worker's page,
with a pause between pages as a person reading them would.

bench/pages.py logs the sessions in through the login form before the load starts (the password
hash is meant to cost CPU: logins inside the measured window would be what is measured), writes
them and the ids to visit into the JSON file named by BENCH_PAGES_TARGETS, and runs
`locust -f bench/locustfile.py --headless ...` against 127.0.0.1 only.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import HttpUser, between, task

with open(os.environ["BENCH_PAGES_TARGETS"]) as targets:
    TARGETS = json.load(targets)
SESSIONS = itertools.cycle(TARGETS["sessions"])


class ResearchStaff(HttpUser):
    wait_time = between(0.5, 1.5)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", next(SESSIONS))

    def account_url(self, path: str) -> str:
        return f"/a/{TARGETS['slug']}/{path}"

    @task(2)
    def overview(self) -> None:
        self.client.get(self.account_url(""), name="overview")

    @task(2)
    def hit_list(self) -> None:
        self.client.get(self.account_url("hits/"), name="HIT list")

    @task(4)
    def review_grid(self) -> None:
        self.client.get(
            self.account_url(f"studies/{TARGETS['hit_type_id']}/"),
            params={"page_size": random.choice([25, 100])},
            name="review grid",
        )

    @task(3)
    def side_by_side(self) -> None:
        hit_id = random.choice(TARGETS["hit_ids"])
        self.client.get(self.account_url(f"hits/{hit_id}/"), name="side by side")

    @task(2)
    def worker_page(self) -> None:
        worker_id = random.choice(TARGETS["worker_ids"])
        self.client.get(self.account_url(f"workers/{worker_id}/"), name="worker page")
