"""Signing SNS messages the way Amazon SNS does, and the emulator's signing certificate.

The string to sign follows AWS's documented algorithm exactly: built from Message, MessageId,
Subject when present, Timestamp, TopicArn, Type, or for confirmations Message, MessageId,
SubscribeURL, Timestamp, Token, TopicArn, Type; each as ``"Key\\nValue\\n"``. SignatureVersion 1 is
SHA1withRSA, 2 is SHA256withRSA (PKCS#1 v1.5, base64). The key is an RSA 2048 key with a
self-signed certificate (:func:`generate_certificate`) that the dashboard is configured to trust.
:class:`Signer` holds one key and its certificate; :class:`emulator.notifications.Notifier` uses one.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

CERT_COMMON_NAME = "sns.emulator.local"

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
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
SIGNATURE_VERSIONS = frozenset(_HASHES)


def check_signature_version(version: str) -> str:
    """``version`` as a string; ``ValueError`` unless it is '1' or '2'."""
    version = str(version)
    if version not in _HASHES:
        raise ValueError("signature_version must be '1' or '2'.")
    return version


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The bytes AWS SNS signs for ``message`` (keys absent from the message are skipped)."""
    keys = NOTIFICATION_KEYS if message.get("Type") == "Notification" else CONFIRMATION_KEYS
    parts = [f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None]
    return "".join(parts).encode("utf-8")


def generate_certificate(common_name: str = CERT_COMMON_NAME) -> tuple[str, str]:
    """A fresh RSA 2048 key and a self-signed certificate for it, as (key_pem, cert_pem)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MTurk emulator (offline SNS)"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class Signer:
    """One RSA signing key and the self-signed certificate for it (a fresh pair when neither is
    given). Raises ``ValueError`` for only one of the two, a non-RSA key, or a certificate that
    does not belong to the key. Immutable: a new key means a new Signer.
    """

    def __init__(self, key_pem: str | None = None, cert_pem: str | None = None) -> None:
        if bool(key_pem) != bool(cert_pem):
            raise ValueError("Pass both key_pem and cert_pem, or neither.")
        if not key_pem:
            key_pem, cert_pem = generate_certificate()
        assert cert_pem is not None
        key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
        cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("The SNS signing key must be an RSA key.")
        public_key = cert.public_key()
        if (
            not isinstance(public_key, rsa.RSAPublicKey)
            or public_key.public_numbers() != key.public_key().public_numbers()
        ):
            raise ValueError("The certificate does not belong to the signing key.")
        self._key = key
        self.key_pem = key_pem
        self.cert_pem = cert_pem

    def sign(self, message: dict[str, Any], version: str, cert_url: str) -> dict[str, Any]:
        """Set SignatureVersion, Signature and SigningCertURL on ``message`` (returned too)."""
        version = check_signature_version(version)
        message["SignatureVersion"] = version
        signature = self._key.sign(string_to_sign(message), padding.PKCS1v15(), _HASHES[version]())
        message["Signature"] = base64.b64encode(signature).decode("ascii")
        message["SigningCertURL"] = cert_url
        return message


__all__ = [
    "CERT_COMMON_NAME",
    "SIGNATURE_VERSIONS",
    "Signer",
    "check_signature_version",
    "generate_certificate",
    "string_to_sign",
]
