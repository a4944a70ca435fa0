"""python manage.py seed_demo: the demo users (and, as later parts land, the demo study). Idempotent."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard import services

DEMO_ADMIN_PASSWORD = "demo-admin-password"
DEMO_STAFF_PASSWORD = "demo-staff-password"


class Command(BaseCommand):
    help = "Create the demo admin and staff users if absent and print how to log in. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even with DEBUG off (a demo deployment); never on a lab's real instance.",
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
        self.stdout.write("Demo users (log in at http://127.0.0.1:8000/accounts/login/):")
        for username, role, created in rows:
            if created:
                password = passwords[username]
                self.stdout.write(f"  {username:<6} {role:<15} password: {password}")
            else:
                self.stdout.write(
                    f"  {username:<6} {role:<15} (already there; its password was left as it was)"
                )
