"""The emulator's notification delivery: event documents over SQS (moto's server) and signed SNS
HTTP messages to a real local receiver, checked with an AWS-algorithm verifier that is itself proven
against real AWS-signed messages."""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from emulator.notifications import Notifier
from emulator.sns_signing import generate_certificate
from tests.vectors import SNS_VECTORS

VECTORS = SNS_VECTORS
TOPIC = "arn:aws:sns:us-east-1:123456789012:mturk-events"
CERT_URL = "http://127.0.0.1:8765/_emulator/sns/cert.pem"
EVENTS = [
    {
        "EventType": "AssignmentSubmitted",
        "EventTimestamp": "2026-11-23T18:40:00Z",
        "HITTypeId": "3HYKOXRS1KEXAMPLETYPE",
        "HITId": "3XKQ6DEXAMPLEHIT0000",
        "AssignmentId": "3ASSIGNMENTEXAMPLE00000000000",
    }
]


# Local URLs only: an environment proxy must not see the test's requests.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the verifier (the dashboard writes its own; this one exists to check our signatures) -------

_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def verify(message: dict, cert_pem: str) -> bool:
    """AWS's documented SNS verification: SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA."""
    algorithm = {"1": hashes.SHA1, "2": hashes.SHA256}.get(message.get("SignatureVersion"))
    if algorithm is None:
        return False
    kind = message.get("Type")
    if kind == "Notification":
        keys = _NOTIFICATION_KEYS
    elif kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        keys = _CONFIRMATION_KEYS
        if any(message.get(key) is None for key in keys):
            return False
    else:
        return False
    text = "".join(f"{key}\n{message[key]}\n" for key in keys if message.get(key) is not None)
    try:
        signature = base64.b64decode(message["Signature"], validate=True)
        public_key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
        public_key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), algorithm())
    except (InvalidSignature, KeyError, ValueError):
        return False
    return True


def _flip_bit(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[len(raw) // 2] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _tampered(message: dict) -> list[tuple[str, dict]]:
    """Copies that must all fail verification."""
    copies = []
    for key in ("Message", "MessageId", "Timestamp", "TopicArn", "Token", "SubscribeURL"):
        if message.get(key) is not None:
            copies.append((f"changed {key}", {**message, key: message[key] + "x"}))
    other_type = "SubscriptionConfirmation" if message["Type"] == "Notification" else "Notification"
    copies.append(("changed Type", {**message, "Type": other_type}))
    if message["Type"] == "Notification":
        if message.get("Subject") is not None:
            copies.append(("changed Subject", {**message, "Subject": message["Subject"] + "x"}))
            copies.append(("removed Subject", {k: v for k, v in message.items() if k != "Subject"}))
        else:
            copies.append(("added Subject", {**message, "Subject": "injected"}))
    swapped = "1" if message["SignatureVersion"] == "2" else "2"
    copies.append(("swapped SignatureVersion", {**message, "SignatureVersion": swapped}))
    copies.append(
        ("flipped signature bit", {**message, "Signature": _flip_bit(message["Signature"])})
    )
    return copies


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_verifier_accepts_real_aws_messages_and_rejects_tampered_copies(path: Path) -> None:
    vector = json.loads(path.read_text())
    message, cert_pem = vector["message"], vector["cert_pem"]
    assert verify(message, cert_pem), f"{path.name} must verify"
    for label, copy in _tampered(message):
        assert not verify(copy, cert_pem), f"{path.name}: {label} must fail"


def test_vectors_cover_both_signature_versions_and_confirmations() -> None:
    messages = [json.loads(path.read_text())["message"] for path in VECTORS]
    assert len(messages) == 19
    assert {m["SignatureVersion"] for m in messages} == {"1", "2"}
    assert {m["Type"] for m in messages} == {"Notification", "SubscriptionConfirmation"}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    # One RSA key for the module keeps the tests fast; a dedicated test covers generation.
    return generate_certificate()


class Receiver:
    """A local SNS subscriber endpoint that records every POST and can fail on demand."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.fail_statuses: list[int] = []  # statuses to answer, in order, before answering 200
        self.notifier: Notifier | None = None
        self.auto_confirm = False
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                record = {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(body.decode("utf-8")),
                }
                with receiver._cond:
                    status = receiver.fail_statuses.pop(0) if receiver.fail_statuses else 200
                    record["status"] = status
                    receiver.received.append(record)
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                message = record["body"]
                if (
                    status == 200
                    and receiver.auto_confirm
                    and message["Type"] == "SubscriptionConfirmation"
                ):
                    # What a real subscriber does: GET the SubscribeURL (served below).
                    threading.Thread(
                        target=_NO_PROXY.open, args=(message["SubscribeURL"],), daemon=True
                    ).start()

            def do_GET(self) -> None:  # noqa: N802
                # Stands in for the emulator core's /_emulator/sns/confirm endpoint.
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                ok = (
                    parts.path == "/_emulator/sns/confirm"
                    and query.get("Action") == ["ConfirmSubscription"]
                    and receiver.notifier is not None
                    and receiver.notifier.confirm(query["Token"][0])
                )
                self.send_response(200 if ok else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base_url}/sns/lab/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"expected {count} POSTs, got {len(self.received)}"
                self._cond.wait(remaining)
            return list(self.received)

    def of_type(self, kind: str) -> list[dict]:
        with self._cond:
            return [item for item in self.received if item["body"]["Type"] == kind]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sns_receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def make_notifier(keypair):
    created: list[Notifier] = []

    def factory(*, seed: int = 7, receiver: Receiver | None = None, **kwargs) -> Notifier:
        faults = kwargs.pop(
            "faults", SimpleNamespace(drop_rate=0.0, duplicate_rate=0.0, reorder=0.0)
        )
        kwargs.setdefault("retry_delays", (0.05, 0.1, 0.1))
        kwargs.setdefault("key_pem", keypair[0])
        kwargs.setdefault("cert_pem", keypair[1])
        notifier = Notifier(
            rng=random.Random(seed),
            cert_url=CERT_URL,
            confirm_base_url=receiver.base_url if receiver else "http://127.0.0.1:8765",
            faults=faults,
            **kwargs,
        )
        if receiver is not None:
            receiver.notifier = notifier
        created.append(notifier)
        return notifier

    yield factory
    for notifier in created:
        notifier.close()


@pytest.fixture(scope="module")
def moto_sqs():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "sqs",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield client
    server.stop()


def _subscribe_and_confirm(notifier: Notifier, receiver: Receiver, **kwargs) -> dict:
    result = notifier.subscribe(topic_arn=TOPIC, endpoint_url=receiver.url, **kwargs)
    receiver.wait_for(len(receiver.received) + 1)
    assert notifier.confirm(result["Token"])
    return result


# --- SQS -----------------------------------------------------------------------------------------


def test_sqs_delivers_the_exact_event_document(moto_sqs, make_notifier) -> None:
    queue_url = moto_sqs.create_queue(QueueName="mturk-exact")["QueueUrl"]
    notifier = make_notifier()
    events = [*EVENTS, {**EVENTS[0], "EventType": "HITReviewable", "AssignmentId": None}]

    doc_id = notifier.publish(
        transport="SQS",
        destination=queue_url,
        event_doc_version="2014-08-15",
        customer_id="A1CUSTOMEREXAMPLE",
        events=events,
    )

    assert notifier.drain(10)
    received = moto_sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert len(received) == 1
    assert json.loads(received[0]["Body"]) == {
        "EventDocVersion": "2014-08-15",
        "EventDocId": doc_id,
        "CustomerId": "A1CUSTOMEREXAMPLE",
        "Events": [
            {
                "EventType": "AssignmentSubmitted",
                "EventTimestamp": "2026-11-23T18:40:00Z",
                "HITId": "3XKQ6DEXAMPLEHIT0000",
                "AssignmentId": "3ASSIGNMENTEXAMPLE00000000000",
                "HITTypeId": "3HYKOXRS1KEXAMPLETYPE",
            },
            {
                "EventType": "HITReviewable",
                "EventTimestamp": "2026-11-23T18:40:00Z",
                "HITId": "3XKQ6DEXAMPLEHIT0000",
                "HITTypeId": "3HYKOXRS1KEXAMPLETYPE",
            },
        ],
    }
    assert re.fullmatch(r"[0-9a-f]{40}", doc_id)
    stats = notifier.stats()
    assert (stats["published"], stats["delivered"], stats["failed"], stats["pending"]) == (
        1,
        1,
        0,
        0,
    )


def test_sqs_event_doc_ids_are_fresh_and_timestamps_default_to_now(moto_sqs, make_notifier) -> None:
    queue_url = moto_sqs.create_queue(QueueName="mturk-fresh")["QueueUrl"]
    notifier = make_notifier()
    ids = {
        notifier.publish(
            transport="SQS",
            destination=queue_url,
            event_doc_version="2006-05-05",
            customer_id="A1",
            events=[{"EventType": "Ping"}],
        )
        for _ in range(3)
    }
    assert len(ids) == 3
    assert notifier.drain(10)
    bodies = []
    while len(bodies) < 3:
        batch = moto_sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        bodies += [json.loads(m["Body"]) for m in batch.get("Messages", [])]
    assert {body["EventDocId"] for body in bodies} == ids
    for body in bodies:
        assert body["EventDocVersion"] == "2006-05-05"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["Events"][0]["EventTimestamp"])


def test_sqs_missing_queue_is_retried_then_counted_failed(moto_sqs, make_notifier) -> None:
    endpoint = moto_sqs.meta.endpoint_url
    notifier = make_notifier(retry_delays=(0.01, 0.01))
    notifier.publish(
        transport="SQS",
        destination=f"{endpoint}/123456789012/no-such-queue",
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.drain(10)
    stats = notifier.stats()
    assert (stats["delivered"], stats["failed"], stats["retries"]) == (0, 1, 2)
    last = notifier.deliveries()[-1]
    assert last["status"] == "failed" and last["attempts"] == 3 and last["error"]


# --- SNS -----------------------------------------------------------------------------------------


def test_sns_subscription_confirmation_is_signed_and_confirmable(
    sns_receiver, make_notifier
) -> None:
    notifier = make_notifier(receiver=sns_receiver)
    result = notifier.subscribe(topic_arn=TOPIC, endpoint_url=sns_receiver.url)
    assert result["PendingConfirmation"] is True
    assert result["SubscriptionArn"].startswith(TOPIC + ":")

    (post,) = sns_receiver.wait_for(1)
    message = post["body"]
    assert message["Type"] == "SubscriptionConfirmation"
    assert message["Token"] == result["Token"]
    assert message["TopicArn"] == TOPIC
    assert message["Message"].startswith(f"You have chosen to subscribe to the topic {TOPIC}.")
    assert message["SubscribeURL"] == (
        f"{sns_receiver.base_url}/_emulator/sns/confirm?Action=ConfirmSubscription"
        f"&TopicArn={TOPIC}&Token={result['Token']}"
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["Timestamp"])
    assert message["SigningCertURL"] == CERT_URL
    assert message["SignatureVersion"] == "2"
    assert verify(message, notifier.cert_pem())
    assert not verify({**message, "Token": "forged"}, notifier.cert_pem())
    headers = post["headers"]
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == message["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == TOPIC
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"

    # Nothing is delivered to a pending subscription.
    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.drain(5)
    assert sns_receiver.of_type("Notification") == []

    assert not notifier.confirm("not-a-token")
    assert notifier.confirm(result["Token"])
    assert notifier.subscriptions()[0]["Confirmed"] is True


def test_sns_subscriber_confirms_by_getting_the_subscribe_url(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver)
    sns_receiver.auto_confirm = True
    notifier.subscribe(topic_arn=TOPIC, endpoint_url=sns_receiver.url)
    deadline = time.monotonic() + 5
    while not notifier.subscriptions()[0]["Confirmed"]:
        assert time.monotonic() < deadline, "the SubscribeURL GET never confirmed the subscription"
        time.sleep(0.02)


@pytest.mark.parametrize("version", ["1", "2"])
def test_sns_notification_envelope_signature_and_headers(
    sns_receiver, make_notifier, version
) -> None:
    notifier = make_notifier(receiver=sns_receiver, signature_version=version)
    sub = _subscribe_and_confirm(notifier, sns_receiver)

    doc_id = notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1CUSTOMEREXAMPLE",
        events=EVENTS,
    )
    posts = sns_receiver.wait_for(2)
    assert notifier.drain(5)
    post = posts[1]
    message = post["body"]
    assert list(message) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ]
    assert message["Type"] == "Notification"
    assert message["SignatureVersion"] == version
    assert message["Subject"].isdigit()  # epoch milliseconds, as MTurk's SNS messages carry
    document = json.loads(message["Message"])
    assert document["EventDocId"] == doc_id
    assert document["Events"][0]["AssignmentId"] == EVENTS[0]["AssignmentId"]
    assert message["UnsubscribeURL"].endswith(f"SubscriptionArn={sub['SubscriptionArn']}")
    assert post["headers"]["x-amz-sns-subscription-arn"] == sub["SubscriptionArn"]
    assert post["headers"]["x-amz-sns-message-type"] == "Notification"
    assert post["headers"]["x-amz-sns-message-id"] == message["MessageId"]

    cert = notifier.cert_pem()
    assert verify(message, cert)
    for label, copy in _tampered(message):
        assert not verify(copy, cert), label


def test_signature_version_can_be_set_per_subscription(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver, signature_version="2")
    _subscribe_and_confirm(notifier, sns_receiver, signature_version="1")
    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    posts = sns_receiver.wait_for(2)
    for post in posts:
        assert post["body"]["SignatureVersion"] == "1"
        assert verify(post["body"], notifier.cert_pem())


def test_sns_retries_after_a_500_with_the_same_message_id(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver)
    _subscribe_and_confirm(notifier, sns_receiver)
    sns_receiver.fail_statuses = [500]
    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    posts = sns_receiver.wait_for(3)
    assert notifier.drain(5)
    first, second = posts[1], posts[2]
    assert (first["status"], second["status"]) == (500, 200)
    assert first["body"] == second["body"]
    stats = notifier.stats()
    assert (stats["delivered"], stats["retries"], stats["failed"]) == (1, 1, 0)


def test_sns_gives_up_after_the_configured_retries(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver, retry_delays=(0.02, 0.02))
    _subscribe_and_confirm(notifier, sns_receiver)
    sns_receiver.fail_statuses = [503, 500, 502, 500]
    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.drain(5)
    assert len(sns_receiver.of_type("Notification")) == 3  # one try + two retries
    stats = notifier.stats()
    assert (stats["delivered"], stats["retries"], stats["failed"]) == (0, 2, 1)


def test_connection_errors_are_retried_and_counted(make_notifier) -> None:
    notifier = make_notifier(retry_delays=(0.01,))
    # Port 9 on 127.0.0.1 (discard) is closed here: the connection is refused.
    notifier.subscribe(topic_arn=TOPIC, endpoint_url="http://127.0.0.1:9/sns/")
    token = notifier.subscriptions()[0]["Token"]
    assert notifier.confirm(token)
    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.drain(5)
    assert notifier.stats()["failed"] == 1
    assert notifier.deliveries()[-1]["status"] == "failed"


def _publish_many(notifier: Notifier, count: int) -> list[str]:
    return [
        notifier.publish(
            transport="SNS",
            destination=TOPIC,
            event_doc_version="2014-08-15",
            customer_id="A1",
            events=[{**EVENTS[0], "HITId": f"HIT{index:04d}"}],
        )
        for index in range(count)
    ]


def _delivered_doc_ids(receiver: Receiver) -> list[str]:
    return [
        json.loads(post["body"]["Message"])["EventDocId"]
        for post in receiver.of_type("Notification")
    ]


def test_drop_and_duplicate_faults_with_a_seeded_rng(sns_receiver, make_notifier) -> None:
    faults = SimpleNamespace(drop_rate=0.25, duplicate_rate=0.25, reorder=0.0)
    notifier = make_notifier(receiver=sns_receiver, faults=faults, seed=1234)
    _subscribe_and_confirm(notifier, sns_receiver)
    published = _publish_many(notifier, 120)
    assert notifier.drain(10)

    stats = notifier.stats()
    delivered = _delivered_doc_ids(sns_receiver)
    counts = {doc_id: delivered.count(doc_id) for doc_id in set(delivered)}
    assert 15 <= stats["dropped"] <= 48
    assert 12 <= stats["duplicated"] <= 45
    assert len(counts) == 120 - stats["dropped"]
    assert set(counts) <= set(published)
    assert sum(1 for n in counts.values() if n == 2) == stats["duplicated"]
    assert max(counts.values()) == 2
    assert stats["delivered"] == len(delivered) == 120 - stats["dropped"] + stats["duplicated"]

    # Same seed, same decisions.
    again = make_notifier(seed=1234, faults=faults)
    again.subscribe(topic_arn=TOPIC, endpoint_url="http://127.0.0.1:9/unused/")
    assert again.confirm(again.subscriptions()[0]["Token"])
    again.retry_delays = ()
    _publish_many(again, 120)
    assert again.drain(10)
    assert (again.stats()["dropped"], again.stats()["duplicated"]) == (
        stats["dropped"],
        stats["duplicated"],
    )


def test_faults_are_read_at_publish_time(sns_receiver, make_notifier) -> None:
    faults = SimpleNamespace(drop_rate=1.0, duplicate_rate=0.0, reorder=0.0)
    notifier = make_notifier(receiver=sns_receiver, faults=faults)
    _subscribe_and_confirm(notifier, sns_receiver)
    _publish_many(notifier, 5)
    assert notifier.drain(5)
    assert _delivered_doc_ids(sns_receiver) == []

    faults.drop_rate, faults.duplicate_rate = 0.0, 1.0
    published = _publish_many(notifier, 3)
    assert notifier.drain(5)
    assert sorted(_delivered_doc_ids(sns_receiver)) == sorted(published * 2)
    assert notifier.stats()["dropped"] == 5


def test_reorder_lets_later_documents_overtake(sns_receiver, make_notifier) -> None:
    faults = SimpleNamespace(drop_rate=0.0, duplicate_rate=0.0, reorder=0.5)
    notifier = make_notifier(
        receiver=sns_receiver, faults=faults, seed=99, workers=1, reorder_delay=(0.1, 0.2)
    )
    _subscribe_and_confirm(notifier, sns_receiver)
    published = _publish_many(notifier, 20)
    assert notifier.drain(10)
    delivered = _delivered_doc_ids(sns_receiver)
    assert sorted(delivered) == sorted(published)  # at-least-once: nothing lost
    assert delivered != published  # ... but not in publish order
    assert notifier.stats()["delayed"] > 0


def test_without_faults_a_single_worker_keeps_order(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver, workers=1)
    _subscribe_and_confirm(notifier, sns_receiver)
    published = _publish_many(notifier, 10)
    assert notifier.drain(5)
    assert _delivered_doc_ids(sns_receiver) == published


def test_only_the_topics_confirmed_subscriptions_receive(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver)
    _subscribe_and_confirm(notifier, sns_receiver)
    other = notifier.subscribe(topic_arn=TOPIC + "-other", endpoint_url=sns_receiver.url + "other/")
    assert notifier.confirm(other["Token"])
    sns_receiver.wait_for(2)
    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.drain(5)
    notifications = sns_receiver.of_type("Notification")
    assert [post["path"] for post in notifications] == ["/sns/lab/"]


def test_resubscribing_returns_the_same_subscription(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver)
    first = notifier.subscribe(topic_arn=TOPIC, endpoint_url=sns_receiver.url)
    second = notifier.subscribe(topic_arn=TOPIC, endpoint_url=sns_receiver.url)
    assert first["SubscriptionArn"] == second["SubscriptionArn"]
    assert len(sns_receiver.wait_for(2)) == 2  # the pending confirmation is sent again
    assert len(notifier.subscriptions()) == 1


def test_unsubscribe_sends_a_signed_confirmation_and_stops_delivery(
    sns_receiver, make_notifier
) -> None:
    notifier = make_notifier(receiver=sns_receiver, signature_version="1")
    sub = _subscribe_and_confirm(notifier, sns_receiver)
    assert notifier.unsubscribe(sub["SubscriptionArn"])
    assert not notifier.unsubscribe(sub["SubscriptionArn"])
    posts = sns_receiver.wait_for(2)
    message = posts[1]["body"]
    assert message["Type"] == "UnsubscribeConfirmation"
    assert message["Message"].startswith(
        f"You have chosen to deactivate subscription {sub['SubscriptionArn']}."
    )
    assert verify(message, notifier.cert_pem())
    assert posts[1]["headers"]["x-amz-sns-subscription-arn"] == sub["SubscriptionArn"]

    notifier.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.drain(5)
    assert sns_receiver.of_type("Notification") == []
    assert notifier.subscriptions() == []

    # Visiting the UnsubscribeConfirmation's SubscribeURL restores the subscription.
    assert notifier.confirm(message["Token"])
    assert notifier.subscriptions()[0]["SubscriptionArn"] == sub["SubscriptionArn"]


def test_email_transport_is_recorded_not_delivered(make_notifier) -> None:
    notifier = make_notifier()
    doc_id = notifier.publish(
        transport="Email",
        destination="lab@example.org",
        event_doc_version="2006-05-05",
        customer_id="A1",
        events=EVENTS,
    )
    (email,) = notifier.emails()
    assert email["destination"] == "lab@example.org"
    assert email["document"]["EventDocId"] == doc_id
    stats = notifier.stats()
    assert (stats["recorded"], stats["delivered"], stats["pending"]) == (1, 0, 0)


@pytest.mark.parametrize(
    ("transport", "destination", "events"),
    [
        ("Carrier pigeon", "x", EVENTS),
        ("SQS", "not a url", EVENTS),
        ("SNS", "https://example.org/topic", EVENTS),
        ("SNS", TOPIC, [{"HITId": "X"}]),
    ],
)
def test_publish_rejects_bad_input(make_notifier, transport, destination, events) -> None:
    notifier = make_notifier()
    with pytest.raises(ValueError):
        notifier.publish(
            transport=transport,
            destination=destination,
            event_doc_version="2014-08-15",
            customer_id="A1",
            events=events,
        )
    assert notifier.stats()["published"] == 0


def test_subscribe_rejects_non_http_endpoints(make_notifier) -> None:
    notifier = make_notifier()
    with pytest.raises(ValueError):
        notifier.subscribe(topic_arn=TOPIC, endpoint_url="mailto:lab@example.org")
    with pytest.raises(ValueError):
        notifier.subscribe(
            topic_arn=TOPIC, endpoint_url="http://127.0.0.1:9/", signature_version="3"
        )


def test_generated_certificate_and_key(make_notifier) -> None:
    notifier = Notifier(
        rng=random.Random(1),
        cert_url=CERT_URL,
        confirm_base_url="http://127.0.0.1:8765/",
        faults=SimpleNamespace(),
    )
    try:
        cert = x509.load_pem_x509_certificate(notifier.cert_pem().encode())
        key = cert.public_key()
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
        assert "CN=sns.emulator.local" in cert.subject.rfc4514_string()
        assert notifier.key_pem().startswith("-----BEGIN PRIVATE KEY-----")
        message = notifier.sign(
            {
                "Type": "Notification",
                "MessageId": "m",
                "TopicArn": TOPIC,
                "Message": "é",
                "Timestamp": "2026-11-23T18:40:00.000Z",
            }
        )
        assert verify(message, notifier.cert_pem())
    finally:
        notifier.close()


def test_mismatched_key_and_certificate_are_refused(keypair) -> None:
    other_key, _ = generate_certificate()
    with pytest.raises(ValueError):
        Notifier(
            rng=random.Random(1),
            cert_url=CERT_URL,
            confirm_base_url="http://127.0.0.1:8765",
            faults=SimpleNamespace(),
            key_pem=other_key,
            cert_pem=keypair[1],
        )


def test_snapshot_restore_keeps_keys_and_subscriptions(sns_receiver, make_notifier) -> None:
    notifier = make_notifier(receiver=sns_receiver)
    sub = _subscribe_and_confirm(notifier, sns_receiver)
    snapshot = json.loads(json.dumps(notifier.snapshot()))  # must be JSON-able
    notifier.close()

    # A restarted emulator: fresh key at first, then the snapshot.
    restored = make_notifier(receiver=sns_receiver, key_pem=None, cert_pem=None)
    restored.restore(snapshot)
    assert restored.cert_pem() == snapshot["cert_pem"]
    assert restored.subscriptions()[0]["SubscriptionArn"] == sub["SubscriptionArn"]
    restored.publish(
        transport="SNS",
        destination=TOPIC,
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert restored.drain(5)
    (post,) = sns_receiver.of_type("Notification")
    assert verify(post["body"], snapshot["cert_pem"])


def test_close_stops_the_delivery_threads(make_notifier) -> None:
    notifier = make_notifier()
    notifier.close()
    assert all(not thread.is_alive() for thread in notifier._threads)
    notifier.close()  # idempotent


def test_publish_after_close_queues_nothing(make_notifier) -> None:
    notifier = make_notifier()
    notifier.close()
    doc_id = notifier.publish(
        transport="SQS",
        destination="http://127.0.0.1:9/123456789012/q",
        event_doc_version="2014-08-15",
        customer_id="A1",
        events=EVENTS,
    )
    assert notifier.stats()["pending"] == 0 and notifier.stats()["published"] == 0
    assert notifier.deliveries()[-1] == {
        **notifier.deliveries()[-1],
        "EventDocId": doc_id,
        "status": "closed",
    }
