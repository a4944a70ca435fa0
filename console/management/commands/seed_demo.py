"""python manage.py seed_demo: the demo users, an emulator account, and a demo study. Idempotent.

The study is published by a job in the worker (the emulator and the web server come up alongside
it under `make run`), so this command returns at once.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard import services
from dashboard.enums import Environment, JobKind, JobState
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount

DEMO_ADMIN_PASSWORD = "demo-admin-password"
DEMO_STAFF_PASSWORD = "demo-staff-password"
DEMO_ACCOUNT_SLUG = "demo"


class Command(BaseCommand):
    help = "Create the demo users, the demo emulator account and its study if absent. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even with DEBUG off (a demo deployment); never on a lab's real instance.",
        )
        parser.add_argument(
            "--no-study", action="store_true", help="Only the users and the account."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "seed_demo creates users with known passwords; it runs only with DEBUG=true (or --allow-without-debug)."
            )
        passwords = {
            "admin": os.environ.get("DEMO_ADMIN_PASSWORD", DEMO_ADMIN_PASSWORD),
            "staff": os.environ.get("DEMO_STAFF_PASSWORD", DEMO_STAFF_PASSWORD),
        }
        rows = services.ensure_demo_users(
            admin_password=passwords["admin"], staff_password=passwords["staff"]
        )
        account = self._account([username for username, _, _ in rows])
        self.stdout.write("Demo users (log in at http://127.0.0.1:8000/accounts/login/):")
        for username, role, created in rows:
            if created:
                self.stdout.write(f"  {username:<6} {role:<15} password: {passwords[username]}")
            else:
                self.stdout.write(
                    f"  {username:<6} {role:<15} (already there; its password was left as it was)"
                )
        self.stdout.write(f"Demo account: {account.name} at {account.effective_endpoint_url}")
        if not options["no_study"]:
            self._study(account)

    def _account(self, usernames: list[str]) -> RequesterAccount:
        from django.contrib.auth import get_user_model

        account = RequesterAccount.objects.filter(slug=DEMO_ACCOUNT_SLUG).first()
        if account is None:
            account = RequesterAccount(
                slug=DEMO_ACCOUNT_SLUG,
                name="Demo lab (emulator)",
                environment=Environment.EMULATOR,
                endpoint_url=settings.DEMO_EMULATOR_URL,
                aws_access_key_id="AKIAEMULATOR00000000",
                rate_limit_per_second=50,
            )
            services.save_account(
                account=account,
                secret_access_key="emulator-accepts-any-secret",
                actor_name="seed_demo",
            )
        account.members.add(*get_user_model().objects.filter(username__in=usernames))
        return account

    def _study(self, account: RequesterAccount) -> None:
        if account.hits.exists():
            self.stdout.write("Demo study: already published.")
            return
        if Job.objects.filter(
            account=account,
            kind=JobKind.DEMO_PUBLISH,
            state__in=[JobState.PENDING, JobState.RUNNING],
        ).exists():
            self.stdout.write("Demo study: a worker is publishing it.")
            return
        job = start_job(
            account=account,
            kind=JobKind.DEMO_PUBLISH,
            title="Publish the demo study on the emulator",
        )
        self.stdout.write(
            f"Demo study: queued (job {job.pk}); the worker publishes it once the emulator is up."
        )
