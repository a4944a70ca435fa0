"""Typed readers for settings that come from the environment.

Every reader raises ImproperlyConfigured naming the variable when its value is malformed, so a
bad deployment stops at start-up with a message that says what to fix, never half-way through a
request.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def env_str(name: str, default: str = "", *, environ: Mapping[str, str] | None = None) -> str:
    """The variable's value, or `default` when unset. `NAME_FILE` (Docker secrets) wins if set."""
    environ = os.environ if environ is None else environ
    file_path = environ.get(f"{name}_FILE")
    if file_path:
        try:
            with open(file_path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points at {file_path!r}, which cannot be read: {exc}"
            ) from exc
    return environ.get(name, default)


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """true/false, 1/0, yes/no, on/off in any case; anything else is an error."""
    raw = env_str(name, "", environ=environ).strip()
    if raw == "":
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true/false, 1/0 or yes/no (any case); got {raw!r}.")


def env_int(
    name: str, default: int, *, minimum: int | None = None, environ: Mapping[str, str] | None = None
) -> int:
    raw = env_str(name, "", environ=environ).strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> float:
    raw = env_str(name, "", environ=environ).strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] | None = None
) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = env_str(name, "", environ=environ)
    if raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


# The example values of .env.example, which anyone can read: a deployment that kept one of them
# has a public signing key (sessions, password resets, CSRF) or a public key to the stored AWS
# secrets (the CREDENTIALS_KEY example is a valid Fernet key, so nothing else would notice).
PLACEHOLDER_SECRETS: dict[str, frozenset[str]] = {
    "SECRET_KEY": frozenset(
        {"change-me-to-50-or-more-random-characters-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
    ),
    "CREDENTIALS_KEY": frozenset({"YmV0dGVyLXJlcGxhY2UtbWUtd2l0aC1hLXJlYWwta2U="}),
}


def refuse_placeholder(name: str, values: str | list[str]) -> None:
    """Stop start-up if `name` still holds a published example value (any of its keys, for a
    list), naming the variable and saying how to make a real one."""
    for value in [values] if isinstance(values, str) else values:
        if value.strip() in PLACEHOLDER_SECRETS.get(name, frozenset()):
            raise ImproperlyConfigured(
                f"{name} is still the example value from .env.example, which is public. "
                f"Set your own {name} (.env.example says how to make one)."
            )


def validate_fernet_keys(name: str, raw: str) -> list[str]:
    """Check a comma-separated list of Fernet keys (the first encrypts, all decrypt: key rotation)."""
    keys = [item.strip() for item in raw.split(",") if item.strip()]
    if not keys:
        raise ImproperlyConfigured(f"{name} is empty.")
    for index, key in enumerate(keys, start=1):
        try:
            decoded = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            decoded = b""
        if len(decoded) != 32:
            raise ImproperlyConfigured(
                f"{name} key #{index} is not a Fernet key (32 url-safe base64-encoded bytes). "
                'Make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            )
    return keys
