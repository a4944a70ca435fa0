"""bench/notifications.py measures what it says: its SNS messages pass the webhook's own checks, its
duplicates are real redeliveries, and its open-loop generator reports every request it sends. (The
whole benchmark needs gunicorn, moto and a database of its own: too slow for a test.)"""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.notifications import (
    TOPIC,
    http_request,
    open_loop,
    percentile,
    signed_envelopes,
    with_duplicates,
)
from emulator.notifications import build_event_document
from emulator.sns_signing import Signer
from mirror.events import parse_event_document
from mturk.sns import SnsVerificationError, SnsVerifier


def _documents(n: int) -> list[dict]:
    return [
        build_event_document(
            event_doc_version="2014-08-15",
            customer_id="A1BENCH",
            events=[{"EventType": "AssignmentSubmitted", "HITId": f"HIT{i}", "AssignmentId": "A1"}],
        )
        for i in range(n)
    ]


def test_the_signed_messages_pass_the_webhooks_verifier_and_parser():
    signer = Signer()
    envelopes = signed_envelopes(signer, _documents(3), "http://127.0.0.1:1")
    verifier = SnsVerifier(trusted_certificate_pem=signer.cert_pem)

    for envelope in envelopes:
        verifier.verify(envelope)
        assert envelope["TopicArn"] == TOPIC
        assert parse_event_document(envelope["Message"]).hit_ids
    tampered = dict(envelopes[0], Message=envelopes[1]["Message"])
    with pytest.raises(SnsVerificationError, match="bad signature"):
        verifier.verify(tampered)


def test_duplicates_come_after_their_original():
    items = list(range(200))

    out, copies = with_duplicates(items, 0.05, seed=7)

    assert copies == 10 and len(out) == 210 and sorted(set(out)) == items
    for item in {x for x in out if out.count(x) == 2}:
        first = out.index(item)
        assert item in out[first + 1 :]


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (
        50.0,
        95.0,
        100.0,
    )


def test_the_open_loop_generator_reports_every_request():
    seen: list[bytes] = []

    async def answer(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        seen.append(await reader.readexactly(length))
        body = b'{"status": "recorded"}' if len(seen) % 2 else b'{"error": "refused"}'
        status = b"200 OK" if len(seen) % 2 else b"403 Forbidden"
        writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    async def run():
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        messages = signed_envelopes(Signer(), _documents(6), "http://127.0.0.1:1")
        requests = [http_request("/notifications/sns/lab/", m) for m in messages]
        async with server:
            return await open_loop(port, requests, rate=100), messages

    run_result, messages = asyncio.run(run())

    results = run_result["results"]
    assert sorted(r[0] for r in results) == [200, 200, 200, 403, 403, 403]
    assert {r[1] for r in results} == {"recorded", "refused"}
    assert all(r[2] > 0 for r in results)
    assert sorted(json.loads(body)["MessageId"] for body in seen) == sorted(
        m["MessageId"] for m in messages
    )
