"""python manage.py consume_notifications [--account SLUG] [--once]

Polls each account's SQS queue for MTurk event documents, records them (deduplicated), deletes the
messages once their events are committed, then applies the recorded events by re-reading the HITs
they name (each HIT once). Without
--once it keeps polling until interrupted.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import RequesterAccount
from dashboard.mturk_access import account_gateway
from mirror.events import apply_account_events
from mirror.sqs_consumer import consume_account


class Command(BaseCommand):
    help = "Consume MTurk notifications from SQS now (the worker does this on a schedule)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--account", help="Slug of one account (default: every active account with a queue)."
        )
        parser.add_argument("--once", action="store_true", help="Drain the queue once and stop.")
        parser.add_argument(
            "--wait", type=int, default=10, help="Long-poll seconds per receive (0-20)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = RequesterAccount.objects.active().exclude(sqs_queue_url="")
        if options["account"]:
            accounts = RequesterAccount.objects.filter(slug=options["account"])
            if not accounts.exists():
                raise CommandError(f"No account {options['account']!r}.")
            if not accounts.get().sqs_queue_url:
                raise CommandError(f"Account {options['account']!r} has no SQS queue URL.")
        if not accounts.exists():
            raise CommandError("No active account has an SQS queue URL.")
        try:
            while True:
                for account in accounts:
                    self._consume(account, options)
                if options["once"]:
                    break
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _consume(self, account: RequesterAccount, options: dict[str, Any]) -> None:
        wait = max(0, min(20, options["wait"]))
        counts = consume_account(
            account=account, max_batches=100, wait_seconds=1 if options["once"] else wait
        )
        with account_gateway(account) as gateway:
            applied = apply_account_events(account=account, gateway=gateway)
        self.stdout.write(
            f"{account.slug}: received {counts['received']}, new {counts['recorded']}, "
            f"duplicates {counts['duplicates']}, applied {applied.events_applied} "
            f"({applied.hits_synced} HITs re-read), invalid {counts['invalid']}, "
            f"left for retry {applied.left_for_retry}"
        )
