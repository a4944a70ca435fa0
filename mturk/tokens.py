"""Deterministic ``UniqueRequestToken`` values derived from our own row ids.

MTurk remembers a token for only 24 hours ("Subsequent calls using the same UniqueRequestToken made
after the 24 hour limit could create duplicate HITs"), so the token protects against a retry soon
after a crash, not forever: the payment/creation ledger in our database (intent rows with a state
machine, claimed by a conditional UPDATE) is the real guard against paying or creating twice.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_TOKEN_LENGTH", "request_token"]

MAX_TOKEN_LENGTH = 64  # the IdempotencyToken shape: 1..64 characters
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def request_token(kind: str, local_id: int | str) -> str:
    """``"<kind>-<local_id>"``, e.g. ``request_token("bonus", 123) == "bonus-123"``.

    Same inputs, same token (that is the point: a retried task sends the same token). Characters
    outside ``[A-Za-z0-9_.-]`` become ``_``; when the result would exceed 64 characters it is cut and
    suffixed with a hash of the full value, so distinct inputs still give distinct tokens.
    """
    kind = _SAFE.sub("_", str(kind).strip())
    ident = _SAFE.sub("_", str(local_id).strip())
    if not kind or not ident:
        raise ValueError("request_token needs a non-empty kind and local id")
    token = f"{kind}-{ident}"
    if len(token) > MAX_TOKEN_LENGTH:
        digest = hashlib.sha256(f"{kind}\0{local_id}".encode()).hexdigest()[:16]
        token = f"{token[: MAX_TOKEN_LENGTH - 17]}-{digest}"
    return token
