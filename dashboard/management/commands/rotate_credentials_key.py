"""python manage.py rotate_credentials_key [--check]

Rotating CREDENTIALS_KEY: put the new key first and keep the old ones after it (comma-separated),
restart, run this command (every stored AWS secret is encrypted again under the new key), then
drop the old keys from the setting and restart again. `--check` only reports how many secrets are
still under an older key (exit status 1 when any is), e.g. before dropping a key.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from dashboard.crypto import CredentialsKeyError, is_under_primary_key, reencrypt_secret
from dashboard.models import RequesterAccount


class Command(BaseCommand):
    help = "Encrypt every stored AWS secret again under the first CREDENTIALS_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only report the secrets still under an older key (exit 1 when any is).",
        )

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        accounts = RequesterAccount.objects.exclude(aws_secret_access_key_encrypted="").order_by(
            "slug"
        )
        if check:
            stale = [
                account.slug
                for account in accounts
                if not is_under_primary_key(account.aws_secret_access_key_encrypted)
            ]
            if stale:
                raise CommandError(
                    f"{len(stale)} secret(s) still under an older key: {', '.join(stale)}. "
                    "Run rotate_credentials_key before dropping it."
                )
            self.stdout.write(f"Every stored secret ({accounts.count()}) is under the first key.")
            return
        rotated = 0
        # One transaction: a key missing for one account leaves every secret as it was.
        with transaction.atomic():
            for account in accounts.select_for_update():
                try:
                    token = reencrypt_secret(account.aws_secret_access_key_encrypted)
                except CredentialsKeyError as exc:
                    raise CommandError(f"{account.slug}: {exc}") from None
                RequesterAccount.objects.filter(pk=account.pk).update(
                    aws_secret_access_key_encrypted=token
                )
                rotated += 1
        self.stdout.write(f"Encrypted {rotated} stored secret(s) again under the first key.")
