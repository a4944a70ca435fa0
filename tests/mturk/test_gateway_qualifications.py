"""MTurkGateway: qualification types, scores, requests; notification settings; review policies."""

from __future__ import annotations

import pytest

from mturk.errors import MTurkError, NotFound, NotGranted
from tests.mturk.helpers import create_hit, work

SNS_TOPIC = "arn:aws:sns:us-east-1:123456789012:mturk-events"


def test_qualification_type_lifecycle(gateway, emulator):
    qt = gateway.create_qualification_type(
        name="Good annotators",
        description="Did well before",
        keywords="quality",
        retry_delay_seconds=3600,
    )
    assert qt.status == "Active" and qt.name == "Good annotators" and qt.creation_time
    assert gateway.get_qualification_type(qualification_type_id=qt.qualification_type_id) == qt
    updated = gateway.update_qualification_type(
        qualification_type_id=qt.qualification_type_id, description="Updated", status="Inactive"
    )
    assert updated.description == "Updated" and updated.status == "Inactive"
    listed = [
        q.qualification_type_id
        for page in gateway.iter_qualification_type_pages(query="annotators")
        for q in page
    ]
    assert listed == [qt.qualification_type_id]
    assert [
        q for page in gateway.iter_qualification_type_pages(query="nomatch") for q in page
    ] == []
    # System qualifications are not "owned by caller"; with False MTurk lists them too.
    public = [
        q
        for page in gateway.iter_qualification_type_pages(
            must_be_requestable=False, must_be_owned_by_caller=False
        )
        for q in page
    ]
    assert len(public) > len(listed)
    gateway.delete_qualification_type(qualification_type_id=qt.qualification_type_id)
    with pytest.raises(MTurkError):
        gateway.create_hit_type(
            title="T",
            description="D",
            reward="0.10",
            assignment_duration_seconds=60,
            qualification_requirements=[
                {
                    "QualificationTypeId": "3NOSUCHQUALIFICATION0000000000",
                    "Comparator": "Exists",
                }
            ],
        )


def test_scores_and_workers_with_qualification(gateway, emulator):
    qt = gateway.create_qualification_type(name="Score", description="A score")
    qtid = qt.qualification_type_id
    gateway.associate_qualification_with_worker(
        qualification_type_id=qtid, worker_id="AWORKERONE", integer_value=42
    )
    gateway.associate_qualification_with_worker(
        qualification_type_id=qtid, worker_id="AWORKERTWO", integer_value=7, send_notification=True
    )
    score = gateway.get_qualification_score(qualification_type_id=qtid, worker_id="AWORKERONE")
    assert score.integer_value == 42 and score.status == "Granted" and score.grant_time
    granted = [
        (q.worker_id, q.integer_value)
        for page in gateway.iter_workers_with_qualification_pages(qualification_type_id=qtid)
        for q in page
    ]
    assert sorted(granted) == [("AWORKERONE", 42), ("AWORKERTWO", 7)]
    gateway.disassociate_qualification_from_worker(
        qualification_type_id=qtid, worker_id="AWORKERTWO", reason="Expired"
    )
    granted_now = [
        q.worker_id
        for page in gateway.iter_workers_with_qualification_pages(
            qualification_type_id=qtid, status="Granted"
        )
        for q in page
    ]
    assert granted_now == ["AWORKERONE"]
    # A missing type is NotFound; a worker without a granted score is NotGranted (also NotFound),
    # telling a revoked score (MTurk's "status of: Granted") from one never granted.
    with pytest.raises(NotFound) as missing_type:
        gateway.get_qualification_score(
            qualification_type_id="3NOSUCHQUALIFICATION0000000000", worker_id="AWORKERONE"
        )
    assert not isinstance(missing_type.value, NotGranted)
    with pytest.raises(NotGranted) as revoked:
        gateway.get_qualification_score(qualification_type_id=qtid, worker_id="AWORKERTWO")
    assert revoked.value.revoked and not revoked.value.retryable
    assert "status of: Granted" in revoked.value.message
    assert revoked.value.operation == "GetQualificationScore" and revoked.value.request_id
    with pytest.raises(NotGranted) as never:
        gateway.get_qualification_score(qualification_type_id=qtid, worker_id="AWORKERNONE")
    assert not never.value.revoked
    # A HIT requiring it shows up for the qualification type, requirement kept as a dict.
    requirement = {"QualificationTypeId": qtid, "Comparator": "GreaterThan", "IntegerValues": [10]}
    hit = create_hit(gateway, qualification_requirements=[requirement])
    assert hit.qualification_requirements[0]["IntegerValues"] == [10]
    listed = list(gateway.iter_hits_for_qualification_type_pages(qualification_type_id=qtid))
    assert [[h.hit_id for h in page] for page in listed] == [[hit.hit_id]]


def test_qualification_requests_accept_and_reject(gateway, emulator):
    qt = gateway.create_qualification_type(name="Requestable", description="Ask for it")
    qtid = qt.qualification_type_id
    for worker in ("AWORKERONE", "AWORKERTWO"):
        emulator.control.post(
            f"workers/{worker}/qualification-requests", {"QualificationTypeId": qtid}
        )
    requests = [
        r
        for page in gateway.iter_qualification_request_pages(qualification_type_id=qtid)
        for r in page
    ]
    by_worker = {r.worker_id: r for r in requests}
    assert set(by_worker) == {"AWORKERONE", "AWORKERTWO"}
    assert all(r.submit_time for r in requests)
    gateway.accept_qualification_request(
        qualification_request_id=by_worker["AWORKERONE"].qualification_request_id,
        integer_value=5,
    )
    gateway.reject_qualification_request(
        qualification_request_id=by_worker["AWORKERTWO"].qualification_request_id,
        reason="Not this time",
    )
    assert (
        gateway.get_qualification_score(
            qualification_type_id=qtid, worker_id="AWORKERONE"
        ).integer_value
        == 5
    )
    assert [r for page in gateway.iter_qualification_request_pages() for r in page] == []


def test_notification_settings_and_test_event(gateway, emulator):
    hit = create_hit(gateway)
    gateway.update_notification_settings(
        hit_type_id=hit.hit_type_id,
        destination=SNS_TOPIC,
        transport="SNS",
        event_types=["AssignmentSubmitted", "HITReviewable"],
    )
    (hit_type,) = [
        t
        for t in emulator.control.truth("hit_types")["hit_types"]
        if t["HITTypeId"] == hit.hit_type_id
    ]
    assert hit_type["Notification"]["Destination"] == SNS_TOPIC
    assert hit_type["Notification"]["Version"] == "2006-05-05"
    assert hit_type["NotificationActive"] is True
    gateway.update_notification_settings(hit_type_id=hit.hit_type_id, active=False)
    (hit_type,) = [
        t
        for t in emulator.control.truth("hit_types")["hit_types"]
        if t["HITTypeId"] == hit.hit_type_id
    ]
    assert hit_type["NotificationActive"] is False
    with pytest.raises(ValueError):
        gateway.update_notification_settings(hit_type_id=hit.hit_type_id, destination=SNS_TOPIC)
    gateway.send_test_event_notification(destination=SNS_TOPIC, transport="SNS")
    events = emulator.control.truth("notifications")["events"]
    assert any("Ping" in str(event) for event in events)


def test_review_policy_results(gateway, emulator):
    policy = {
        "PolicyName": "SimplePlurality/2011-09-01",
        "Parameters": [
            {"Key": "QuestionIds", "Values": ["color"]},
            {"Key": "QuestionAgreementThreshold", "Values": ["50"]},
        ],
    }
    hit = create_hit(gateway, max_assignments=2, hit_review_policy=policy)
    work(emulator, hit.hit_id, "AWORKERONE", {"color": "red"})
    work(emulator, hit.hit_id, "AWORKERTWO", {"color": "red"})
    results = gateway.list_review_policy_results_for_hit(hit_id=hit.hit_id)
    assert results.hit_id == hit.hit_id
    assert results.hit_review_policy["PolicyName"] == "SimplePlurality/2011-09-01"
    assert results.hit_review_report is not None
