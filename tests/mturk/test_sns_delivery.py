"""End to end: the emulator delivers SNS messages over HTTP to a local endpoint; the verifier
accepts them with the pinned emulator certificate, the SubscribeURL passes the emulator-account
rule, and MTurk events set up through the gateway arrive as verifiable Notifications. Also the
default certificate fetcher and the certificate cache."""

from __future__ import annotations

import http.server
import json
import queue
import threading
import urllib.request

import pytest

from mturk.sns import (
    MAX_CERT_BYTES,
    SnsVerificationError,
    SnsVerifier,
    default_fetch_certificate,
    is_trusted_subscribe_url,
)
from tests.mturk.helpers import create_hit
from tests.vectors import SNS_VECTOR_DIR

TOPIC = "arn:aws:sns:us-east-1:123456789012:mturk-webhook-test"


class _Receiver(http.server.BaseHTTPRequestHandler):
    inbox: queue.Queue

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.inbox.put(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):  # noqa: N802
        payload = self.server.payload  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    inbox: queue.Queue = queue.Queue()
    handler = type("Handler", (_Receiver,), {"inbox": inbox})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.payload = b""  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.inbox = inbox  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def _get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        return response.read()


def test_emulator_deliveries_verify_with_the_pinned_certificate(gateway, emulator, receiver):
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}/notifications/sns/test/"
    cert_pem = _get(emulator.endpoint_url + "/_emulator/sns/cert.pem").decode()
    verifier = SnsVerifier(trusted_certificate_pem=cert_pem)

    emulator.control.post("sns/subscriptions", {"TopicArn": TOPIC, "Endpoint": endpoint})
    headers, confirmation = receiver.inbox.get(timeout=10)
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    verifier.verify(confirmation)
    subscribe_url = confirmation["SubscribeURL"]
    assert is_trusted_subscribe_url(subscribe_url, trusted_base_url=emulator.endpoint_url)
    assert not is_trusted_subscribe_url(subscribe_url)  # not an AWS host
    _get(subscribe_url)  # confirm, as the webhook would

    hit = create_hit(gateway)
    gateway.update_notification_settings(
        hit_type_id=hit.hit_type_id,
        destination=TOPIC,
        transport="SNS",
        event_types=["AssignmentAccepted"],
    )
    emulator.control.add_worker(WorkerId="AWORKERONE")
    emulator.control.accept("AWORKERONE", hit.hit_id)
    _, notification = receiver.inbox.get(timeout=10)
    assert notification["Type"] == "Notification" and notification["TopicArn"] == TOPIC
    verifier.verify(notification)
    document = json.loads(notification["Message"])
    assert document["Events"][0]["EventType"] == "AssignmentAccepted"
    assert document["Events"][0]["HITId"] == hit.hit_id
    with pytest.raises(SnsVerificationError):
        verifier.verify(
            dict(notification, Message=notification["Message"].replace("Accepted", "Returned"))
        )


def test_default_fetcher_and_size_cap(receiver):
    url = f"http://127.0.0.1:{receiver.server_address[1]}/cert.pem"
    receiver.payload = b"-----BEGIN CERTIFICATE-----\n"
    assert default_fetch_certificate(url) == receiver.payload
    receiver.payload = b"x" * (MAX_CERT_BYTES + 10)
    with pytest.raises(SnsVerificationError, match="too large"):
        default_fetch_certificate(url)


def test_certificate_cache_is_lru_by_url():
    vectors = []
    for path in sorted(SNS_VECTOR_DIR.glob("*.json")):
        vectors.append(json.loads(path.read_text(encoding="utf-8")))
    by_url = {v["signing_cert_url"]: v for v in vectors}
    first, second = list(by_url.values())[:2]
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return by_url[url]["cert_pem"].encode()

    verifier = SnsVerifier(fetch_certificate=fetch, cache_size=1)
    verifier.verify(first["message"])
    verifier.verify(first["message"])
    verifier.verify(second["message"])  # evicts the first
    verifier.verify(first["message"])
    assert fetched == [
        first["signing_cert_url"],
        second["signing_cert_url"],
        first["signing_cert_url"],
    ]
