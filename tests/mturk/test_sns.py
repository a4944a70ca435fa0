"""mturk.sns against real AWS-signed messages (vectors beside DESIGN.md), tampered copies, the
certificate URL host rule, and messages signed by the emulator's Notifier (trusted-cert path)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import glob
import json
import os
import random

import pytest

from emulator.notifications import Notifier
from mturk.sns import (
    SnsVerificationError,
    SnsVerifier,
    is_trusted_cert_url,
    is_trusted_subscribe_url,
    string_to_sign,
)
from tests.vectors import SNS_VECTOR_DIR

VECTOR_DIR = str(SNS_VECTOR_DIR)
VECTORS = sorted(glob.glob(os.path.join(VECTOR_DIR, "*.json")))


def _load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


class StubFetch:
    """Serves the vector's PEM for its cert URL and records every URL asked for."""

    def __init__(self, vector: dict) -> None:
        self.vector = vector
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        assert url == self.vector["signing_cert_url"]
        return self.vector["cert_pem"].encode()


def _verifier(vector: dict) -> tuple[SnsVerifier, StubFetch]:
    fetch = StubFetch(vector)
    return SnsVerifier(fetch_certificate=fetch), fetch


def test_vectors_are_present():
    assert len(VECTORS) == 19


@pytest.mark.parametrize("path", VECTORS, ids=os.path.basename)
def test_every_real_vector_verifies(path):
    vector = _load(path)
    verifier, fetch = _verifier(vector)
    verifier.verify(vector["message"])
    verifier.verify(vector["message"])  # second time from the cache
    assert fetch.urls == [vector["signing_cert_url"]]


def _tampered(message: dict) -> list[tuple[str, dict]]:
    out = []
    signed = [
        "Message",
        "MessageId",
        "Timestamp",
        "TopicArn",
        "Subject",
        "SubscribeURL",
        "Token",
    ]
    for key in signed:
        if message.get(key) is None:
            continue
        copy_ = copy.deepcopy(message)
        value = copy_[key]
        if key == "Timestamp":
            copy_[key] = value[:-5] + ("1" if value[-5] != "1" else "2") + value[-4:]
        else:
            copy_[key] = value + "x"
        out.append((f"changed {key}", copy_))
    other_type = copy.deepcopy(message)
    other_type["Type"] = (
        "SubscriptionConfirmation" if message["Type"] == "Notification" else "Notification"
    )
    out.append(("changed Type", other_type))
    if message["Type"] == "Notification":
        subject = copy.deepcopy(message)
        if message.get("Subject") is None:
            subject["Subject"] = "added"
            out.append(("added Subject", subject))
        else:
            del subject["Subject"]
            out.append(("removed Subject", subject))
    swapped = copy.deepcopy(message)
    swapped["SignatureVersion"] = "2" if message["SignatureVersion"] == "1" else "1"
    out.append(("swapped SignatureVersion", swapped))
    flipped = copy.deepcopy(message)
    raw = bytearray(base64.b64decode(message["Signature"]))
    raw[len(raw) // 2] ^= 0x01
    flipped["Signature"] = base64.b64encode(bytes(raw)).decode()
    out.append(("flipped signature bit", flipped))
    return out


@pytest.mark.parametrize("path", VECTORS, ids=os.path.basename)
def test_tampered_copies_fail(path):
    vector = _load(path)
    verifier, _ = _verifier(vector)
    cases = _tampered(vector["message"])
    assert len(cases) >= 7
    for name, message in cases:
        with pytest.raises(SnsVerificationError):
            verifier.verify(message)
            pytest.fail(f"{name} verified")


def test_certificate_validity_is_checked_at_the_message_timestamp():
    vector = _load(VECTORS[0])
    verifier, _ = _verifier(vector)
    message = copy.deepcopy(vector["message"])
    message["Timestamp"] = "2099-01-01T00:00:00.000Z"  # outside the cert's validity
    with pytest.raises(SnsVerificationError, match="not valid at"):
        verifier.verify(message)


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        "https://sns.evil.com/SimpleNotificationService-x.pem",
        "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-x.pem",
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.txt",
        "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-x.pem",
        "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        "https://evil.com/sns.us-east-1.amazonaws.com/x.pem",
        "",
    ],
)
def test_foreign_cert_urls_are_refused_before_any_fetch(url):
    vector = _load(VECTORS[0])
    fetched: list[str] = []
    verifier = SnsVerifier(fetch_certificate=lambda u: fetched.append(u) or b"")
    message = dict(vector["message"], SigningCertURL=url)
    with pytest.raises(SnsVerificationError, match="untrusted SigningCertURL"):
        verifier.verify(message)
    assert fetched == []
    assert not is_trusted_cert_url(url)


def test_trusted_cert_and_subscribe_url_rules():
    assert is_trusted_cert_url(
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem"
    )
    assert is_trusted_cert_url(
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem"
    )
    assert is_trusted_subscribe_url(
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x"
    )
    assert not is_trusted_subscribe_url("http://sns.us-east-1.amazonaws.com/?Action=Confirm")
    assert not is_trusted_subscribe_url("https://sns.us-east-1.amazonaws.com.evil.com/?x")
    base = "http://127.0.0.1:8765/_emulator/sns"
    assert is_trusted_subscribe_url(f"{base}/confirm?token=abc", trusted_base_url=base)
    assert not is_trusted_subscribe_url(
        "http://127.0.0.1:8766/_emulator/sns/confirm", trusted_base_url=base
    )
    assert not is_trusted_subscribe_url(
        "http://127.0.0.1:8765/_emulator/snsx/confirm", trusted_base_url=base
    )
    assert not is_trusted_subscribe_url(
        "http://evil.com/_emulator/sns/confirm", trusted_base_url=base
    )
    assert not is_trusted_subscribe_url(
        "https://sns.us-east-1.amazonaws.com/?Action=Confirm", trusted_base_url=base
    )


def test_required_fields_and_versions():
    vector = _load(VECTORS[0])
    verifier, fetch = _verifier(vector)
    for key in ("Message", "MessageId", "Timestamp", "TopicArn"):
        message = copy.deepcopy(vector["message"])
        del message[key]
        with pytest.raises(SnsVerificationError, match=key):
            verifier.verify(message)
    for version in ("3", "", None):
        message = dict(vector["message"], SignatureVersion=version)
        with pytest.raises(SnsVerificationError, match="SignatureVersion"):
            verifier.verify(message)
    with pytest.raises(SnsVerificationError, match="Type"):
        verifier.verify(dict(vector["message"], Type="Bogus"))
    with pytest.raises(SnsVerificationError, match="base64"):
        verifier.verify(dict(vector["message"], Signature="not base64!"))
    assert fetch.urls == []  # all refused before any certificate was needed


def test_fetch_failures_are_verification_errors():
    vector = _load(VECTORS[0])

    def broken(url: str) -> bytes:
        raise OSError("network down")

    with pytest.raises(SnsVerificationError, match="could not fetch"):
        SnsVerifier(fetch_certificate=broken).verify(vector["message"])
    with pytest.raises(SnsVerificationError, match="PEM"):
        SnsVerifier(fetch_certificate=lambda url: b"garbage").verify(vector["message"])


def test_max_age_bound():
    vector = _load(VECTORS[0])
    verifier = SnsVerifier(
        fetch_certificate=StubFetch(vector),
        max_age=dt.timedelta(hours=1),
        now=lambda: dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    with pytest.raises(SnsVerificationError, match="too old"):
        verifier.verify(vector["message"])


@pytest.fixture(scope="module")
def notifier():
    n = Notifier(
        rng=random.Random(3),
        cert_url="http://127.0.0.1:9/_emulator/sns/cert.pem",
        confirm_base_url="http://127.0.0.1:9/_emulator/sns",
        faults=object(),
        workers=1,
    )
    yield n
    n.close(timeout=1)


def _emulator_message(kind: str, subject: str | None = None) -> dict:
    message = {
        "Type": kind,
        "MessageId": "6f3c7d5e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:mturk",
        "Message": json.dumps({"EventDocVersion": "2014-08-15", "Events": []}),
        "Timestamp": "2026-11-23T18:00:00.000Z",
    }
    if subject is not None:
        message["Subject"] = subject
    if kind != "Notification":
        message["Token"] = "abc123"
        message["SubscribeURL"] = "http://127.0.0.1:9/_emulator/sns/confirm?token=abc123"
    return message


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize(
    "kind,subject",
    [
        ("Notification", None),
        ("Notification", "MTurk event"),
        ("SubscriptionConfirmation", None),
        ("UnsubscribeConfirmation", None),
    ],
)
def test_emulator_signed_messages_verify_with_the_trusted_certificate(
    notifier, version, kind, subject
):
    message = notifier.sign(_emulator_message(kind, subject), signature_version=version)
    fetched: list[str] = []
    verifier = SnsVerifier(
        trusted_certificate_pem=notifier.cert_pem(),
        fetch_certificate=lambda u: fetched.append(u) or b"",
    )
    verifier.verify(message)
    assert fetched == []  # the pinned certificate is used whatever SigningCertURL says
    tampered = dict(message, Message=message["Message"] + " ")
    with pytest.raises(SnsVerificationError):
        verifier.verify(tampered)
    # Without the pin the emulator's http:// cert URL is refused outright.
    with pytest.raises(SnsVerificationError, match="untrusted"):
        SnsVerifier(fetch_certificate=lambda u: b"").verify(message)


def test_another_certificate_does_not_verify_emulator_messages(notifier):
    from emulator.sns_signing import generate_certificate

    message = notifier.sign(_emulator_message("Notification"))
    _, other_cert = generate_certificate()
    with pytest.raises(SnsVerificationError, match="bad signature"):
        SnsVerifier(trusted_certificate_pem=other_cert).verify(message)


def test_string_to_sign_matches_the_emulator():
    from emulator.sns_signing import string_to_sign as emulator_string_to_sign

    for kind, subject in [
        ("Notification", "s"),
        ("Notification", None),
        ("UnsubscribeConfirmation", None),
    ]:
        message = _emulator_message(kind, subject)
        assert string_to_sign(message) == emulator_string_to_sign(message)


def test_canonical_certificate_pem_keeps_exactly_one_certificate():
    from mturk.sns import canonical_certificate_pem

    pem = _load(VECTORS[0])["cert_pem"]
    other = _load(VECTORS[-1])["cert_pem"]

    assert canonical_certificate_pem(pem).strip() == pem.strip().replace("\r\n", "\n")
    assert canonical_certificate_pem(f"\n  {pem}\n\n").startswith("-----BEGIN CERTIFICATE-----")
    assert canonical_certificate_pem(pem.encode()) == canonical_certificate_pem(pem)
    for bad in [
        "",
        "<html><body>internal page</body></html>",
        f"internal secret\n{pem}",  # a certificate inside another page: the page must not ride along
        f"{pem}\nmore text",
        pem + other,  # two certificates
        pem.replace("CERTIFICATE", "PRIVATE KEY"),
        pem[:200] + "\n-----END CERTIFICATE-----",  # broken
    ]:
        with pytest.raises(ValueError):
            canonical_certificate_pem(bad)
