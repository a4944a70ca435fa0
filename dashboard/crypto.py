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


@sensitive_variables()
def reencrypt_secret(token: str) -> str:
    """The secret encrypted again under the first CREDENTIALS_KEY (the one new secrets use), so
    the older keys can be dropped from the setting afterwards."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise CredentialsKeyError(
            "A stored AWS secret cannot be decrypted with any CREDENTIALS_KEY: keep the key it was "
            "stored with in the list (after the new one) until every secret is rotated."
        ) from None


@sensitive_variables()
def is_under_primary_key(token: str) -> bool:
    """Whether the first CREDENTIALS_KEY alone decrypts the secret."""
    try:
        Fernet(settings.CREDENTIALS_KEYS[0].encode("ascii")).decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True
