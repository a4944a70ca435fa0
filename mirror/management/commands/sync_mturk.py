"""python manage.py sync_mturk [--account SLUG] [--full]

Runs the same sync services as the Celery beat schedule, in the foreground, with a progress line.
Without --full: reviewable HITs and the balance. With --full: full reconciliation (ListHITs), then
balance, qualification types, worker blocks and bonuses.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.enums import SyncKind
from dashboard.models import RequesterAccount
from mirror.sync import AccountBusy, run_sync

QUICK = [SyncKind.REVIEWABLE, SyncKind.BALANCE]
FULL = [SyncKind.FULL, SyncKind.BALANCE, SyncKind.QUALIFICATIONS, SyncKind.BLOCKS, SyncKind.BONUSES]


class Command(BaseCommand):
    help = "Sync requester accounts from MTurk into the database now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account", help="Slug of one account (default: every active account)."
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="Full reconciliation instead of reviewable HITs only.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = RequesterAccount.objects.active()
        if options["account"]:
            accounts = RequesterAccount.objects.filter(slug=options["account"])
            if not accounts.exists():
                raise CommandError(f"No account {options['account']!r}.")
        if not accounts.exists():
            raise CommandError(
                "No active requester account to sync. Add one with manage.py add_account."
            )
        failures = 0
        for account in accounts:
            for kind in FULL if options["full"] else QUICK:
                try:
                    outcome = run_sync(
                        account=account, kind=kind, on_page=self._progress(account, kind)
                    )
                except AccountBusy as exc:
                    raise CommandError(str(exc)) from None
                self._end_progress()
                if outcome.ok:
                    figures = ", ".join(f"{key} {value}" for key, value in outcome.details.items())
                    self.stdout.write(
                        self.style.SUCCESS(
                            f"{account.slug}: {kind.label} in {outcome.seconds:.1f}s"
                        )
                        + (f" ({figures})" if figures else "")
                    )
                else:
                    failures += 1
                    self.stderr.write(self.style.ERROR(f"{account.slug}: {outcome.error}"))
        if failures:
            raise CommandError(f"{failures} sync(s) failed; see above.")

    def _progress(self, account: RequesterAccount, kind: SyncKind):
        stream = self.stdout
        interactive = sys.stdout.isatty()

        def show(counts: Any) -> None:
            line = f"{account.slug}: {kind.label}: page {counts.pages}, {counts.hits_seen} HITs, {counts.assignments_seen} assignments"
            if interactive:
                stream.write("\r" + line, ending="")
                stream.flush()

        return show

    def _end_progress(self) -> None:
        if sys.stdout.isatty():
            self.stdout.write("")
