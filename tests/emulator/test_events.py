"""Notification settings and the events the core emits at every state change, delivered through
SQS (moto's server) and SNS (HTTP subscriptions confirmed through the control API)."""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

from tests.emulator.helpers import create_hit, error_of, work

ALL_EVENTS = [
    "AssignmentAccepted",
    "AssignmentAbandoned",
    "AssignmentReturned",
    "AssignmentSubmitted",
    "AssignmentRejected",
    "AssignmentApproved",
    "HITCreated",
    "HITExpired",
    "HITReviewable",
    "HITExtended",
    "HITDisposed",
]
TOPIC = "arn:aws:sns:us-east-1:123456789012:mturk-events"


def spec(transport="SNS", destination=TOPIC, events=None, version="2014-08-15"):
    return {
        "Destination": destination,
        "Transport": transport,
        "Version": version,
        "EventTypes": events or ALL_EVENTS,
    }


def emitted(emu) -> list[str]:
    return [
        e["EventType"] for doc in emu.control.get("notifications")["events"] for e in doc["Events"]
    ]


def test_settings_validation(emu, mturk):
    hit_type = mturk.create_hit_type(
        Title="t", Description="d", Reward="0.10", AssignmentDurationInSeconds=60
    )["HITTypeId"]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_notification_settings(HITTypeId=hit_type)
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_notification_settings(HITTypeId=hit_type, Active=True)  # nothing to activate
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.update_notification_settings(HITTypeId=hit_type, Notification=spec(events=["Ping"]))
    assert "Ping" in error_of(excinfo)["message"]
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_notification_settings(
            HITTypeId=hit_type, Notification=spec(destination="not-an-arn")
        )
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_notification_settings(
            HITTypeId=hit_type, Notification=spec(transport="SQS", destination=TOPIC)
        )
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_notification_settings(
            HITTypeId=hit_type, Notification=spec(version="1999-01-01")
        )
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.update_notification_settings(HITTypeId="3NOSUCHTYPE", Active=False)
    mturk.update_notification_settings(HITTypeId=hit_type, Notification=spec(version="2006-05-05"))
    mturk.update_notification_settings(HITTypeId=hit_type, Active=False)
    truth = emu.control.truth("hit_types")["hit_types"][0]
    assert truth["NotificationActive"] is False and truth["Notification"]["Version"] == "2006-05-05"


def test_events_for_every_state_change_only_when_active_and_selected(emu, mturk):
    hit = create_hit(mturk, MaxAssignments=3, LifetimeInSeconds=600, AssignmentDurationInSeconds=60)
    mturk.update_notification_settings(
        HITTypeId=hit["HITTypeId"],
        Notification=spec(transport="Email", destination="lab@example.org"),
    )
    for worker in ("AW1", "AW2", "AW3", "AW4"):
        emu.control.add_worker(WorkerId=worker)
    a1 = emu.control.accept("AW1", hit["HITId"])
    emu.control.return_assignment(a1["AssignmentId"])
    emu.control.accept("AW2", hit["HITId"])
    emu.control.advance(61)  # abandoned
    approved = work(emu, hit["HITId"], "AW3")
    rejected = work(emu, hit["HITId"], "AW4")
    mturk.approve_assignment(AssignmentId=approved)
    mturk.reject_assignment(AssignmentId=rejected, RequesterFeedback="no")
    mturk.create_additional_assignments_for_hit(HITId=hit["HITId"], NumberOfAdditionalAssignments=1)
    mturk.update_expiration_for_hit(
        HITId=hit["HITId"], ExpireAt=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    mturk.delete_hit(HITId=hit["HITId"])
    types = emitted(emu)
    # HITCreated happened before the settings existed, so it was not sent.
    assert set(types) == set(ALL_EVENTS) - {"HITCreated"}
    docs = emu.control.get("notifications")["events"]
    event = next(e for d in docs for e in d["Events"] if e["EventType"] == "AssignmentApproved")
    assert event["AssignmentId"] == approved and event["HITId"] == hit["HITId"]
    assert event["HITTypeId"] == hit["HITTypeId"] and event["EventTimestamp"].endswith("Z")
    # Deactivated: nothing more.
    mturk.update_notification_settings(HITTypeId=hit["HITTypeId"], Active=False)
    before = len(types)
    create_hit(mturk, MaxAssignments=3, LifetimeInSeconds=600, AssignmentDurationInSeconds=60)
    assert len(emitted(emu)) == before


def test_only_selected_event_types_are_sent(emu, mturk):
    hit = create_hit(mturk)
    mturk.update_notification_settings(
        HITTypeId=hit["HITTypeId"],
        Notification=spec(transport="Email", destination="a@b.c", events=["AssignmentSubmitted"]),
    )
    work(emu, hit["HITId"], "AW1")
    assert emitted(emu) == ["AssignmentSubmitted"]


@pytest.fixture
def webhook():
    received: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put(({k.lower(): v for k, v in self.headers.items()}, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


def test_sns_delivery_to_a_confirmed_subscription(emu, mturk, webhook):
    url, received = webhook
    sub = emu.control.post("sns/subscriptions", {"TopicArn": TOPIC, "Endpoint": url})
    headers, confirmation = received.get(timeout=5)
    assert confirmation["Type"] == "SubscriptionConfirmation"
    with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=5) as response:
        assert response.status == 200
    listed = emu.control.get("sns/subscriptions")["Subscriptions"]
    assert listed[0]["SubscriptionArn"] == sub["SubscriptionArn"]
    pem = emu.control.get("sns/cert.pem")
    assert "BEGIN CERTIFICATE" in pem
    mturk.send_test_event_notification(Notification=spec(events=["Ping"]), TestEventType="Ping")
    headers, message = received.get(timeout=5)
    assert headers["x-amz-sns-message-type"] == "Notification"
    document = json.loads(message["Message"])
    assert document["EventDocVersion"] == "2014-08-15"
    assert document["Events"][0]["EventType"] == "Ping"
    assert document["EventDocId"] and document["CustomerId"]


def test_sqs_delivery_through_moto():
    from moto.server import ThreadedMotoServer

    from emulator.testing import run_emulator

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        sqs = boto3.client(
            "sqs",
            region_name="us-east-1",
            endpoint_url=f"http://{host}:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        queue_url = sqs.create_queue(QueueName="mturk")["QueueUrl"]
        with run_emulator(seed=3) as running:
            mturk = running.client()
            hit = create_hit(mturk, MaxAssignments=1)
            mturk.update_notification_settings(
                HITTypeId=hit["HITTypeId"],
                Notification=spec(transport="SQS", destination=queue_url),
            )
            work(running, hit["HITId"], "AW1")
            assert running.control.post("notifications/drain", {"timeout": 10})["drained"]
        events = []
        for _ in range(10):
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            for m in messages:
                events += [e["EventType"] for e in json.loads(m["Body"])["Events"]]
            if {"AssignmentAccepted", "AssignmentSubmitted", "HITReviewable"} <= set(events):
                break
        assert {"AssignmentAccepted", "AssignmentSubmitted", "HITReviewable"} <= set(events)
    finally:
        moto.stop()
