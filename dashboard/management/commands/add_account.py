"""python manage.py add_account SLUG --environment emulator|sandbox|live [--endpoint-url URL]

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a prompt, never from argv,
where they would land in shell history and the process list.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.views.decorators.debug import sensitive_variables

from dashboard import services
from dashboard.enums import Environment
from dashboard.models import RequesterAccount


class Command(BaseCommand):
    help = "Add a requester account, or update it if the slug exists. Credentials come from the environment or a prompt."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--environment", required=True, choices=[choice.value for choice in Environment]
        )
        parser.add_argument(
            "--endpoint-url", default="", help="Required for the emulator; optional otherwise."
        )
        parser.add_argument("--name", default="", help="Display name (defaults to the slug).")
        parser.add_argument(
            "--member",
            action="append",
            default=[],
            help="Username to add as a member (repeatable).",
        )
        parser.add_argument("--sqs-queue-url", default="")
        parser.add_argument("--sns-topic-arn", default="")

    # The secret is a local here and in _credentials: error reports must not print it.
    @sensitive_variables("secret")
    def handle(self, *args: Any, **options: Any) -> None:
        access_key_id, secret = self._credentials()
        account = RequesterAccount.objects.filter(slug=options["slug"]).first() or RequesterAccount(
            slug=options["slug"]
        )
        created = account.pk is None
        account.name = options["name"] or account.name or options["slug"]
        account.environment = options["environment"]
        account.endpoint_url = options["endpoint_url"] or account.endpoint_url
        account.aws_access_key_id = access_key_id
        account.sqs_queue_url = options["sqs_queue_url"] or account.sqs_queue_url
        account.sns_topic_arn = options["sns_topic_arn"] or account.sns_topic_arn
        try:
            services.save_account(
                account=account, secret_access_key=secret, actor_name="manage.py add_account"
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(
                    f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()
                )
            ) from None
        users = get_user_model().objects.filter(username__in=options["member"])
        missing = set(options["member"]) - {user.get_username() for user in users}
        if missing:
            raise CommandError(
                f"No such user(s): {', '.join(sorted(missing))}. The account was saved without them."
            )
        account.members.add(*users)
        verb = "Added" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} account {account.slug} ({account.get_environment_display()}) at {account.effective_endpoint_url}"
            )
        )

    @sensitive_variables("secret")
    def _credentials(self) -> tuple[str, str]:
        access_key_id = os.environ.get("AWS_ACCESS_KEY_ID", "").strip()
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if access_key_id and secret:
            return access_key_id, secret
        if not sys.stdin.isatty():
            raise CommandError(
                "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run in a terminal to be prompted."
            )
        access_key_id = access_key_id or input("AWS access key id: ").strip()
        secret = secret or getpass.getpass("AWS secret access key (not echoed): ").strip()
        if not access_key_id or not secret:
            raise CommandError("Both the access key id and the secret access key are required.")
        return access_key_id, secret
