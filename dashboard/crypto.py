"""Encryption of stored AWS secrets with CREDENTIALS_KEY (Fernet; several keys allow rotation)."""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables


class CredentialsKeyError(Exception):
    """A stored secret cannot be decrypted with any configured CREDENTIALS_KEY."""


@cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in keys])


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.CREDENTIALS_KEYS))


# Every local here and in the cryptography calls below holds the secret or the key: hide them all
# from error pages and reports.
@sensitive_variables()
def encrypt_secret(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


@sensitive_variables()
def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise CredentialsKeyError(
            "A stored AWS secret cannot be decrypted: CREDENTIALS_KEY changed without keeping the old key "
            "(list old keys after the new one, comma-separated, to rotate)."
        ) from None
