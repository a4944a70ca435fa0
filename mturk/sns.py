"""Verification of Amazon SNS messages posted over HTTP(S) (the notification webhook).

Contract: :meth:`SnsVerifier.verify` returns ``None`` for an authentic message and raises
:class:`SnsVerificationError` (with a short ``reason``) for anything else; it never fetches a
certificate from a URL that fails the host rule. The algorithm is AWS's ("Verifying the signatures
of Amazon SNS messages"): the string to sign is ``"Key\\nValue\\n"`` for, in this order,
Message, MessageId, Subject (only when present and not null), Timestamp, TopicArn, Type for a
Notification; Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for
SubscriptionConfirmation / UnsubscribeConfirmation. SignatureVersion "1" is SHA1withRSA, "2" is
SHA256withRSA, both PKCS#1 v1.5.

Two trust modes:

- real SNS (sandbox / live accounts): the certificate comes from ``SigningCertURL``, which must be
  ``https://sns.<region>.amazonaws.com[.cn]/<...>.pem``; it is fetched (:mod:`mturk.fetch`: no
  redirects, 5 s, 64 KiB cap; injectable for tests) and cached by URL. Its validity is checked at the
  message's Timestamp, not at "now", so a message keeps verifying after AWS rotates certificates and
  recorded vectors verify in tests. Replay of old messages is bounded by ``max_age`` (the webhook
  sets it) and by the webhook's dedupe on MessageId and EventDocId.
- emulator accounts: a per-account trusted certificate (PEM) is pinned and used whatever
  ``SigningCertURL`` says; the emulator's self-signed certificate has no CA to chain to, so pinning
  is the trust anchor and its validity dates are not checked.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mturk.fetch import FetchError, fetch

__all__ = [
    "SnsVerificationError",
    "SnsVerifier",
    "canonical_certificate_pem",
    "default_fetch_certificate",
    "is_trusted_cert_url",
    "is_trusted_subscribe_url",
    "string_to_sign",
]

NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_REQUIRED = {
    "Notification": ("Message", "MessageId", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": CONFIRMATION_KEYS,
    "UnsubscribeConfirmation": CONFIRMATION_KEYS,
}
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
MAX_CERT_BYTES = 64 * 1024
FETCH_TIMEOUT = 5.0
CACHE_SIZE = 32


class SnsVerificationError(Exception):
    """The message is not an authentic SNS message; ``reason`` says why (safe to log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The exact bytes SNS signs for ``message`` (see module doc)."""
    kind = message.get("Type")
    keys = NOTIFICATION_KEYS if kind == "Notification" else CONFIRMATION_KEYS
    return "".join(
        f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None
    ).encode("utf-8")


def is_trusted_cert_url(url: str) -> bool:
    """True for ``https://sns.<region>.amazonaws.com[.cn]/...pem`` (no userinfo, default port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError):
        return False
    return (
        parts.scheme == "https"
        and parts.username is None
        and parts.password is None
        and port in (None, 443)
        and bool(_SNS_HOST.match(parts.hostname or ""))
        and parts.path.endswith(".pem")
    )


def is_trusted_subscribe_url(url: str, *, trusted_base_url: str | None = None) -> bool:
    """May the webhook GET this SubscribeURL / UnsubscribeURL?

    Real SNS: https on ``sns.<region>.amazonaws.com[.cn]``. Emulator accounts: the URL must start
    with the account's endpoint (``trusted_base_url``), compared as scheme + host + port + path
    prefix so ``http://127.0.0.1:8765.evil`` or a different port does not pass.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError):
        return False
    if parts.username is not None or parts.password is not None:
        return False
    if trusted_base_url is None:
        return (
            parts.scheme == "https"
            and port in (None, 443)
            and bool(_SNS_HOST.match(parts.hostname or ""))
        )
    try:
        base = urlsplit(trusted_base_url)
        base_port = base.port
    except (ValueError, TypeError):
        return False
    base_path = base.path.rstrip("/")
    return (
        parts.scheme == base.scheme
        and (parts.hostname or "") == (base.hostname or "")
        and port == base_port
        and (parts.path == base_path or parts.path.startswith(base_path + "/"))
    )


def default_fetch_certificate(url: str) -> bytes:
    """GET ``url`` (already host-checked): no redirects, 5 s, refusing more than 64 KiB."""
    try:
        return fetch(
            url,
            headers={"User-Agent": "mturk-dashboard-sns-verifier"},
            max_bytes=MAX_CERT_BYTES,
            timeout=FETCH_TIMEOUT,
        ).body
    except FetchError as exc:
        raise SnsVerificationError(f"could not fetch signing certificate: {exc}") from None


# Exactly one PEM block and nothing around it: base64 lines between the two markers.
_ONE_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----"
)


def canonical_certificate_pem(data: bytes | str) -> str:
    """``data`` as one PEM X.509 certificate, re-encoded; ValueError for anything else.

    Whatever was fetched or pasted is kept only if it is exactly one certificate (surrounding
    whitespace aside): text around it, a second block, a key or a broken certificate are refused,
    and what is returned is the certificate re-encoded, so nothing else can ride along into the
    database or onto a page.
    """
    raw = (data.encode("utf-8", "replace") if isinstance(data, str) else data).strip()
    if not _ONE_PEM_CERTIFICATE.fullmatch(raw):
        raise ValueError("not exactly one PEM certificate (BEGIN CERTIFICATE ... END CERTIFICATE)")
    try:
        certificate = x509.load_pem_x509_certificate(raw)
    except ValueError:
        raise ValueError("not a valid X.509 certificate") from None
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _parse_timestamp(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise SnsVerificationError("Timestamp is not ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


class SnsVerifier:
    """Verifies SNS HTTP messages (see module doc). Thread-safe; keep one per trust setting.

    ``trusted_certificate_pem``: pin this certificate (emulator accounts). ``fetch_certificate``:
    how to GET a certificate URL (default :func:`default_fetch_certificate`). ``max_age``: if given,
    refuse messages whose Timestamp is older than this (``now`` is injectable for tests).
    """

    def __init__(
        self,
        *,
        trusted_certificate_pem: str | None = None,
        fetch_certificate: Callable[[str], bytes] | None = None,
        max_age: dt.timedelta | None = None,
        now: Callable[[], dt.datetime] | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._pinned = (
            _load_certificate(trusted_certificate_pem.encode()) if trusted_certificate_pem else None
        )
        self._fetch = fetch_certificate or default_fetch_certificate
        self._max_age = max_age
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._cache: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self._lock = threading.Lock()

    def verify(self, message: Mapping[str, Any]) -> None:
        """Raise :class:`SnsVerificationError` unless ``message`` is authentic."""
        if not isinstance(message, Mapping):
            raise SnsVerificationError("message is not a JSON object")
        kind = message.get("Type")
        if kind not in _REQUIRED:
            raise SnsVerificationError(f"unknown Type {kind!r}")
        for key in _REQUIRED[kind]:
            if not isinstance(message.get(key), str):
                raise SnsVerificationError(f"missing or non-string {key}")
        subject = message.get("Subject")
        if subject is not None and not isinstance(subject, str):
            raise SnsVerificationError("Subject is not a string")
        version = str(message.get("SignatureVersion") or "")
        if version not in _HASHES:
            raise SnsVerificationError(f"unsupported SignatureVersion {version!r}")
        try:
            signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise SnsVerificationError("Signature is not base64") from None
        if not signature:
            raise SnsVerificationError("missing Signature")
        timestamp = _parse_timestamp(message["Timestamp"])
        if self._max_age is not None and self._now() - timestamp > self._max_age:
            raise SnsVerificationError("message is too old")

        if self._pinned is not None:
            certificate = self._pinned
        else:
            # Lambda-format events spell it SigningCertUrl; HTTP bodies SigningCertURL.
            url = message.get("SigningCertURL") or message.get("SigningCertUrl")
            if not isinstance(url, str) or not is_trusted_cert_url(url):
                raise SnsVerificationError("untrusted SigningCertURL")
            certificate = self._certificate(url)
            if not (
                certificate.not_valid_before_utc <= timestamp <= certificate.not_valid_after_utc
            ):
                raise SnsVerificationError("certificate not valid at the message Timestamp")

        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise SnsVerificationError("signing certificate does not hold an RSA key")
        try:
            public_key.verify(
                signature, string_to_sign(message), padding.PKCS1v15(), _HASHES[version]()
            )
        except InvalidSignature:
            raise SnsVerificationError("bad signature") from None

    def _certificate(self, url: str) -> x509.Certificate:
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None:
                self._cache.move_to_end(url)
                return cached
        # Fetch outside the lock: a slow fetch must not stall verifications of cached URLs.
        try:
            data = self._fetch(url)
        except SnsVerificationError:
            raise
        except Exception as exc:  # network errors of any kind: refuse, do not crash the webhook
            raise SnsVerificationError(f"could not fetch signing certificate: {exc}") from None
        if isinstance(data, str):
            data = data.encode()
        if len(data) > MAX_CERT_BYTES:
            raise SnsVerificationError("signing certificate too large")
        certificate = _load_certificate(data)
        with self._lock:
            self._cache[url] = certificate
            self._cache.move_to_end(url)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return certificate


def _load_certificate(data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise SnsVerificationError("signing certificate is not a PEM certificate") from None
