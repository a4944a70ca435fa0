"""Rotating CREDENTIALS_KEY: secrets encrypted again under the new first key, old keys droppable."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from dashboard.models import RequesterAccount
from tests.factories import RequesterAccountFactory

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored(account: RequesterAccount) -> str:
    return RequesterAccount.objects.get(pk=account.pk).aws_secret_access_key_encrypted


def test_rotation_moves_every_secret_to_the_new_key_and_the_old_key_can_go(capsys):
    with override_settings(CREDENTIALS_KEYS=[OLD]):
        accounts = [RequesterAccountFactory(slug=f"lab-{n}") for n in range(3)]
        for n, account in enumerate(accounts):
            account.set_secret_access_key(f"secret-{n}")
            account.save()
    with override_settings(CREDENTIALS_KEYS=[NEW, OLD]):
        with pytest.raises(CommandError, match="3 secret"):
            call_command("rotate_credentials_key", "--check")
        call_command("rotate_credentials_key")
        assert "Encrypted 3 stored secret(s)" in capsys.readouterr().out
        call_command("rotate_credentials_key", "--check")
    with override_settings(CREDENTIALS_KEYS=[NEW]):
        for n, account in enumerate(accounts):
            fresh = RequesterAccount.objects.get(pk=account.pk)
            assert fresh.get_secret_access_key() == f"secret-{n}"
            assert Fernet(NEW.encode()).decrypt(stored(account).encode()) == f"secret-{n}".encode()


def test_a_secret_under_a_key_no_longer_listed_stops_the_rotation_and_changes_nothing():
    with override_settings(CREDENTIALS_KEYS=[OLD]):
        first = RequesterAccountFactory(slug="lab-a")
        first.set_secret_access_key("a")
        first.save()
    lost = Fernet.generate_key().decode()
    with override_settings(CREDENTIALS_KEYS=[lost]):
        second = RequesterAccountFactory(slug="lab-b")
        second.set_secret_access_key("b")
        second.save()
    before = {first.pk: stored(first), second.pk: stored(second)}
    with (
        override_settings(CREDENTIALS_KEYS=[NEW, OLD]),
        pytest.raises(CommandError, match="lab-b"),
    ):
        call_command("rotate_credentials_key")
    assert {first.pk: stored(first), second.pk: stored(second)} == before
