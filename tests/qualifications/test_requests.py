"""The qualification request queue against the emulator over real HTTP: a worker requests a type
and takes its test, the sync brings the request, the queue shows it with the answer key's score,
the admin decides it exactly once, and the emulator's truth says what the worker holds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dashboard.enums import IntentState, JobState
from dashboard.jobs import run_job
from dashboard.models import AuditEvent, Job
from emulator.answer_xml import answers_to_xml, parse_answers, score_answer_key
from emulator.testing import ControlError
from mturk.qualification_test import score_answers
from qualifications import requests as services
from qualifications.models import (
    Qualification,
    QualificationRequest,
    QualificationType,
    RequestDecision,
)
from qualifications.sync import sync_qualifications
from tests.emulator.helpers import ANSWER_KEY, HTML_QUESTION, QUESTION_FORM
from tests.htmlcheck import nested_forms

NS = "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
TWO_QUESTIONS = (
    f'<QuestionForm xmlns="{NS}2017-11-06/QuestionForm.xsd">'
    "<Question><QuestionIdentifier>fruit</QuestionIdentifier><IsRequired>true</IsRequired>"
    "<QuestionContent><Text>Favourite fruit?</Text></QuestionContent><AnswerSpecification>"
    "<SelectionAnswer><Selections><Selection><SelectionIdentifier>apples</SelectionIdentifier>"
    "<Text>Apples</Text></Selection><Selection><SelectionIdentifier>pears</SelectionIdentifier>"
    "<Text>Pears</Text></Selection></Selections></SelectionAnswer></AnswerSpecification>"
    "</Question><Question><QuestionIdentifier>colours</QuestionIdentifier>"
    "<QuestionContent><Text>Which are &lt;b&gt;warm&lt;/b&gt;?</Text></QuestionContent>"
    "<AnswerSpecification><SelectionAnswer><Selections>"
    "<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>"
    "<Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue</Text></Selection>"
    "<Selection><SelectionIdentifier>orange</SelectionIdentifier><Text>Orange</Text></Selection>"
    "</Selections></SelectionAnswer></AnswerSpecification></Question></QuestionForm>"
)


def key(mapping: str = "", default: str = "") -> str:
    return (
        f'<AnswerKey xmlns="{NS}2005-10-01/AnswerKey.xsd">'
        "<Question><QuestionIdentifier>fruit</QuestionIdentifier>"
        "<AnswerOption><SelectionIdentifier>apples</SelectionIdentifier>"
        "<AnswerScore>3</AnswerScore></AnswerOption>"
        "<AnswerOption><SelectionIdentifier>pears</SelectionIdentifier>"
        f"<AnswerScore>-1</AnswerScore></AnswerOption>{default}</Question>"
        "<Question><QuestionIdentifier>colours</QuestionIdentifier>"
        "<AnswerOption><SelectionIdentifier>red</SelectionIdentifier>"
        "<SelectionIdentifier>orange</SelectionIdentifier><AnswerScore>2</AnswerScore>"
        "</AnswerOption><DefaultScore>1</DefaultScore></Question>"
        f"{mapping}</AnswerKey>"
    )


MAPPINGS = {
    "none": "",
    "percentage": "<QualificationValueMapping><PercentageMapping><MaximumSummedScore>5"
    "</MaximumSummedScore></PercentageMapping></QualificationValueMapping>",
    "scale": "<QualificationValueMapping><ScaleMapping><SummedScoreMultiplier>2.5"
    "</SummedScoreMultiplier></ScaleMapping></QualificationValueMapping>",
    "range": "<QualificationValueMapping><RangeMapping><SummedScoreRange>"
    "<InclusiveLowerBound>4</InclusiveLowerBound><InclusiveUpperBound>5</InclusiveUpperBound>"
    "<QualificationValue>90</QualificationValue></SummedScoreRange><SummedScoreRange>"
    "<InclusiveLowerBound>0</InclusiveLowerBound><InclusiveUpperBound>3</InclusiveUpperBound>"
    "<QualificationValue>40</QualificationValue></SummedScoreRange>"
    "<OutOfRangeQualificationValue>7</OutOfRangeQualificationValue></RangeMapping>"
    "</QualificationValueMapping>",
}
ANSWER_SETS = [
    {"fruit": "apples", "colours": ["red", "orange"]},
    {"fruit": "apples", "colours": ["orange", "red"]},
    {"fruit": "pears", "colours": ["red"]},
    {"fruit": "apples", "colours": ["red", "orange", "blue"]},
    {"fruit": "pears", "colours": []},
    {},
]


# --- The answer key's score ------------------------------------------------------------------------


@pytest.mark.parametrize("mapping", sorted(MAPPINGS))
@pytest.mark.parametrize("answers", ANSWER_SETS)
def test_score_answers_agrees_with_the_emulator(mapping, answers):
    answer_key = key(MAPPINGS[mapping])
    xml = answers_to_xml(answers)

    ours = score_answers(answer_key, xml)

    assert ours == score_answer_key(answer_key, parse_answers(xml))


def test_score_answers_values_by_hand():
    best = answers_to_xml({"fruit": "apples", "colours": ["red", "orange"]})
    worst = answers_to_xml({"fruit": "pears", "colours": ["blue"]})

    assert score_answers(key(), best) == 5
    assert score_answers(key(MAPPINGS["percentage"]), best) == 100
    assert score_answers(key(MAPPINGS["scale"]), worst) == 0  # (-1 + 1) * 2.5
    assert score_answers(key(MAPPINGS["range"]), best) == 90
    assert score_answers(key(MAPPINGS["range"]), worst) == 40  # 0 is in 0..3
    pears_only = answers_to_xml({"fruit": "pears", "colours": ["red", "orange"]})
    assert score_answers(key(MAPPINGS["range"]), answers_to_xml({"fruit": "apples"})) == 90
    assert score_answers(key(), pears_only) == 1
    # Scores outside every range take the out-of-range value (MTurk's AnswerKey scores are ints:
    # a sum can still fall between two ranges only when ranges leave a gap).
    gap = key(
        "<QualificationValueMapping><RangeMapping><SummedScoreRange><InclusiveLowerBound>4"
        "</InclusiveLowerBound><InclusiveUpperBound>5</InclusiveUpperBound><QualificationValue>90"
        "</QualificationValue></SummedScoreRange><OutOfRangeQualificationValue>7"
        "</OutOfRangeQualificationValue></RangeMapping></QualificationValueMapping>"
    )
    assert score_answers(gap, worst) == 7


def test_score_answers_is_none_for_what_it_cannot_read():
    xml = answers_to_xml({"fruit": "apples"})

    assert score_answers("", xml) is None
    assert score_answers("<AnswerKey><oops", xml) is None
    assert score_answers(key(), "not xml") is None
    assert score_answers("<NotAKey/>", xml) is None


# --- The end-to-end flow against the emulator ------------------------------------------------------


def calls(control, operation: str) -> int:
    return control.truth("calls")["call_counts"].get(operation, 0)


def holds(control, type_id: str) -> dict[str, int | None]:
    return {
        q["WorkerId"]: q.get("IntegerValue")
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id and q["Status"] == "Granted"
    }


@pytest.fixture
def tested_type(emulator_account, account_gateway, fresh_emulator) -> QualificationType:
    """A requestable type with a test, and two workers who asked for it and took the test.

    At MTurk a test *with* an answer key is scored and granted at once, never queued; requests
    wait for the requester when the type has no key. So the key is added after the workers took
    the test (their requests stay pending), as a lab does that wants to review by hand with the
    key's score beside each request."""
    record = account_gateway.create_qualification_type(
        name="Colour vision",
        description="Tell colours apart",
        test=QUESTION_FORM,
        test_duration_seconds=300,
    )
    control = fresh_emulator.control
    for worker_id, fruit in (("AGOODWORKER", "apples"), ("ABADWORKER", "pears")):
        control.add_worker(WorkerId=worker_id)
        result = control.post(
            f"workers/{worker_id}/qualification-requests",
            {"QualificationTypeId": record.qualification_type_id, "answers": {"fruit": fruit}},
        )
        assert result["Granted"] is False
    account_gateway.update_qualification_type(
        qualification_type_id=record.qualification_type_id,
        test=QUESTION_FORM,
        test_duration_seconds=300,
        answer_key=ANSWER_KEY,
    )
    sync_qualifications(account=emulator_account, gateway=account_gateway)
    return QualificationType.objects.get(
        account=emulator_account, qualification_type_id=record.qualification_type_id
    )


def request_of(qtype: QualificationType, worker_id: str) -> QualificationRequest:
    return QualificationRequest.objects.get(qualification_type=qtype, worker_id=worker_id)


def queue_url(account) -> str:
    return reverse("qualification-requests", kwargs={"slug": account.slug})


def decide_url(account, request_id: str) -> str:
    return reverse(
        "qualification-request-decide", kwargs={"slug": account.slug, "request_id": request_id}
    )


@pytest.mark.django_db(transaction=True)
def test_queue_shows_the_request_with_its_score_and_an_accept_lets_the_worker_work(
    emulator_account, account_gateway, fresh_emulator, tested_type, lab_admin_client, eager_celery
):
    control = fresh_emulator.control
    good = request_of(tested_type, "AGOODWORKER")
    hit = account_gateway.create_hit(
        title="Colour task",
        description="Needs colour vision",
        reward="0.10",
        assignment_duration_seconds=600,
        lifetime_seconds=3600,
        token="q3-colour-hit",
        question=HTML_QUESTION,
        qualification_requirements=[
            {
                "QualificationTypeId": tested_type.qualification_type_id,
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [50],
                "ActionsGuarded": "Accept",
            }
        ],
    ).hit
    with pytest.raises(ControlError):
        control.accept("AGOODWORKER", hit.hit_id)

    page = lab_admin_client.get(queue_url(emulator_account))

    assert page.status_code == 200
    items = {item.request.worker_id: item for item in page.context["items"]}
    assert {w: i.score for w, i in items.items()} == {"AGOODWORKER": 100, "ABADWORKER": 0}
    fruit = items["AGOODWORKER"].questions[0]
    assert (fruit.text, fruit.given, fruit.right, fruit.correct) == (
        "Favourite fruit?",
        ["Apples"],
        ["Apples"],
        True,
    )
    html = page.content.decode()
    assert '<strong class="auto-score">100</strong>' in html
    assert nested_forms(html) == []

    # Accept with the value blank: the answer key's score is sent.
    response = lab_admin_client.post(
        decide_url(emulator_account, good.qualification_request_id),
        {"action": "accept", "value": ""},
    )

    assert response.status_code == 302
    assert holds(control, tested_type.qualification_type_id) == {"AGOODWORKER": 100}
    decision = RequestDecision.objects.get(qualification_request_id=good.qualification_request_id)
    assert (decision.state, decision.integer_value) == (IntentState.DONE, 100)
    assert (
        Qualification.objects.get(
            qualification_type=tested_type, worker_id="AGOODWORKER"
        ).integer_value
        == 100
    )
    assert not QualificationRequest.objects.filter(pk=good.pk).exists()
    assert AuditEvent.objects.filter(action="qualification_request.accept").count() == 1
    # The worker may now take the HIT that requires the type.
    assert control.accept("AGOODWORKER", hit.hit_id)["WorkerId"] == "AGOODWORKER"
    # The queue lists only the other request.
    again = lab_admin_client.get(queue_url(emulator_account))
    assert [i.request.worker_id for i in again.context["items"]] == ["ABADWORKER"]


@pytest.mark.django_db(transaction=True)
def test_a_rejection_needs_a_reason_and_is_sent_once(
    emulator_account, fresh_emulator, tested_type, lab_admin_client, eager_celery
):
    bad = request_of(tested_type, "ABADWORKER")
    url = decide_url(emulator_account, bad.qualification_request_id)

    refused = lab_admin_client.post(url, {"action": "reject", "reason": "  "})

    assert refused.status_code == 400
    assert "needs a reason" in refused.content.decode()
    assert not RequestDecision.objects.exists()

    first = lab_admin_client.post(url, {"action": "reject", "reason": "Try again <soon>"})
    second = lab_admin_client.post(url, {"action": "reject", "reason": "Try again <soon>"})

    assert (first.status_code, second.status_code) == (302, 302)
    control = fresh_emulator.control
    assert calls(control, "RejectQualificationRequest") == 1
    assert holds(control, tested_type.qualification_type_id) == {}
    pending = control.truth("qualification_requests")["qualification_requests"]
    assert [r["WorkerId"] for r in pending] == ["AGOODWORKER"]
    assert RequestDecision.objects.get().reason == "Try again <soon>"


@pytest.mark.django_db(transaction=True)
def test_a_double_click_with_htmx_decides_once_and_swaps_the_card(
    emulator_account, fresh_emulator, tested_type, lab_admin_client, eager_celery
):
    good = request_of(tested_type, "AGOODWORKER")
    url = decide_url(emulator_account, good.qualification_request_id)

    first = lab_admin_client.post(url, {"action": "accept", "value": "70"}, HTTP_HX_REQUEST="true")
    second = lab_admin_client.post(url, {"action": "accept", "value": "80"}, HTTP_HX_REQUEST="true")

    assert first.status_code == second.status_code == 200
    assert f'id="request-{good.qualification_request_id}"' in first.content.decode()
    assert "on its way" in first.content.decode()
    assert "decided already" in second.content.decode()
    assert "<html" not in second.content.decode()
    assert calls(fresh_emulator.control, "AcceptQualificationRequest") == 1
    assert holds(fresh_emulator.control, tested_type.qualification_type_id) == {"AGOODWORKER": 70}
    assert RequestDecision.objects.count() == 1


@pytest.mark.django_db
def test_a_resend_after_a_crash_counts_as_already_done(
    emulator_account, account_gateway, fresh_emulator, tested_type
):
    """MTurk forgets a decided request: accepting again errors. The worker's score confirms it."""
    good, bad = request_of(tested_type, "AGOODWORKER"), request_of(tested_type, "ABADWORKER")
    accepted = services.request_decisions(
        account=emulator_account, request_ids=[good.qualification_request_id], action="accept"
    ).decisions[0]
    rejected = services.request_decisions(
        account=emulator_account,
        request_ids=[bad.qualification_request_id],
        action="reject",
        reason="No",
    ).decisions[0]
    # Both calls reached MTurk, then the worker died before recording them.
    account_gateway.accept_qualification_request(
        qualification_request_id=good.qualification_request_id, integer_value=100
    )
    account_gateway.reject_qualification_request(
        qualification_request_id=bad.qualification_request_id, reason="No"
    )
    for decision in (accepted, rejected):
        RequestDecision.objects.filter(pk=decision.pk).update(
            state=IntentState.SENDING, claimed_at=timezone.now() - timedelta(hours=1), attempts=1
        )

    ends = [
        services.execute_request_decision(decision_id=d.pk, gateway=account_gateway)
        for d in (accepted, rejected)
    ]

    assert [d.state for d in ends] == [IntentState.ALREADY, IntentState.ALREADY]
    assert holds(fresh_emulator.control, tested_type.qualification_type_id) == {"AGOODWORKER": 100}


@pytest.mark.django_db
def test_a_request_decided_the_other_way_elsewhere_fails_with_why(
    emulator_account, account_gateway, fresh_emulator, tested_type
):
    bad = request_of(tested_type, "ABADWORKER")
    decision = services.request_decisions(
        account=emulator_account,
        request_ids=[bad.qualification_request_id],
        action="reject",
        reason="No",
    ).decisions[0]
    account_gateway.accept_qualification_request(
        qualification_request_id=bad.qualification_request_id
    )

    end = services.execute_request_decision(decision_id=decision.pk, gateway=account_gateway)

    assert end.state == IntentState.FAILED
    assert "decided the other way" in end.error
    # A failed decision no longer hides the request (were it still pending).
    assert services.pending_requests(account=emulator_account).filter(pk=bad.pk).exists()


@pytest.mark.django_db
def test_a_crash_resumed_bulk_job_decides_each_request_once(
    emulator_account, account_gateway, fresh_emulator, settings
):
    record = account_gateway.create_qualification_type(
        name="Bulk", description="Many requests", test=QUESTION_FORM, test_duration_seconds=300
    )
    control = fresh_emulator.control
    workers = [f"ABULKWORKER{n:02d}" for n in range(5)]
    for worker_id in workers:
        control.add_worker(WorkerId=worker_id)
        control.post(
            f"workers/{worker_id}/qualification-requests",
            {"QualificationTypeId": record.qualification_type_id, "answers": {"fruit": "apples"}},
        )
    sync_qualifications(account=emulator_account, gateway=account_gateway)
    ids = list(
        QualificationRequest.objects.order_by("worker_id").values_list(
            "qualification_request_id", flat=True
        )
    )
    with transaction.atomic():
        job, outcome = services.start_bulk_decision(
            account=emulator_account, request_ids=ids, action="accept", integer_value=9
        )
    decisions = outcome.decisions
    # The first worker sent two, and died in the middle of the third: its call reached MTurk.
    for decision in decisions[:2]:
        services.execute_request_decision(decision_id=decision.pk, gateway=account_gateway)
    RequestDecision.objects.filter(pk=decisions[2].pk).update(
        state=IntentState.SENDING, claimed_at=timezone.now(), attempts=1
    )
    account_gateway.accept_qualification_request(
        qualification_request_id=decisions[2].qualification_request_id, integer_value=9
    )
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, heartbeat_at=stale)

    assert run_job(job_id=job.pk) == JobState.SUCCEEDED

    states = list(
        RequestDecision.objects.filter(job=job).order_by("pk").values_list("state", flat=True)
    )
    assert states == ["done", "done", "already", "done", "done"]
    assert holds(control, record.qualification_type_id) == dict.fromkeys(workers, 9)
    # Five requests, six calls: only the one whose outcome was unknown went twice, and MTurk
    # refused the second (the request was gone).
    assert calls(control, "AcceptQualificationRequest") == 6
    job.refresh_from_db()
    assert (job.done, job.failed) == (5, 0)


@pytest.mark.django_db(transaction=True)
def test_bulk_decision_through_its_confirmation_page_runs_once(
    emulator_account, fresh_emulator, tested_type, lab_admin_client, eager_celery
):
    ids = sorted(QualificationRequest.objects.values_list("qualification_request_id", flat=True))
    bulk = reverse("qualification-requests-bulk", kwargs={"slug": emulator_account.slug})
    confirm_url = reverse("qualification-requests-confirm", kwargs={"slug": emulator_account.slug})

    page = lab_admin_client.post(
        bulk, {"selected": ids, "action": "reject", "reason": "Not this time"}
    )

    assert page.status_code == 200
    assert not RequestDecision.objects.exists()  # nothing before the confirmation
    token = page.context["confirmation"]
    assert sorted(page.context["ids"]) == ids
    post = {"selected": ids, "action": "reject", "reason": "Not this time", "confirmation": token}
    # The same page's token with another decision is refused: nothing recorded.
    tampered = lab_admin_client.post(confirm_url, {**post, "action": "accept"})
    assert tampered.status_code == 409
    assert not RequestDecision.objects.exists()

    first = lab_admin_client.post(confirm_url, post)
    second = lab_admin_client.post(confirm_url, post)

    assert first.status_code == 302
    assert second.status_code == 409
    assert Job.objects.filter(kind="qualification.requests").count() == 1
    assert calls(fresh_emulator.control, "RejectQualificationRequest") == 2
    assert set(RequestDecision.objects.values_list("state", flat=True)) == {IntentState.DONE}
    assert fresh_emulator.control.truth("qualification_requests")["qualification_requests"] == []


@pytest.mark.django_db
def test_bulk_page_refuses_bad_input_with_a_message(emulator_account, lab_admin_client):
    bulk = reverse("qualification-requests-bulk", kwargs={"slug": emulator_account.slug})

    nothing = lab_admin_client.post(bulk, {"action": "accept"})
    junk = lab_admin_client.post(bulk, {"selected": ["<script>"], "action": "accept"})
    no_reason = lab_admin_client.post(bulk, {"selected": ["ABC"], "action": "reject"})

    assert [r.status_code for r in (nothing, junk, no_reason)] == [400, 400, 400]
    assert "Tick the requests" in nothing.content.decode()
    assert "<script>" not in junk.content.decode()
    assert "needs a reason" in no_reason.content.decode()


# --- Rendering and permissions ---------------------------------------------------------------------


@pytest.fixture
def mirrored_request(account) -> QualificationRequest:
    qtype = QualificationType.objects.create(
        account=account,
        qualification_type_id="QTYPEMATRIX",
        name="Screening <b>test</b>",
        test=TWO_QUESTIONS,
        answer_key=key(MAPPINGS["percentage"]),
    )
    return QualificationRequest.objects.create(
        account=account,
        qualification_request_id="QREQUESTONE",
        qualification_type=qtype,
        worker_id="AQUEUEWORKER",
        test=TWO_QUESTIONS,
        answer=answers_to_xml(
            {"fruit": "<img src=x onerror=alert(1)>", "colours": ["red", "orange"]}
        ),
        submit_time=timezone.now(),
    )


@pytest.mark.django_db
def test_answers_and_questions_are_escaped(mirrored_request, lab_admin_client, account):
    html = lab_admin_client.get(queue_url(account)).content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Screening &lt;b&gt;test&lt;/b&gt;" in html
    assert "Which are &lt;b&gt;warm&lt;/b&gt;?" in html
    assert "Red, Orange" in html
    assert '<strong class="auto-score">40</strong>' in html  # (-0? 0 + 2) / 5


@pytest.mark.django_db
def test_the_filter_by_type_and_an_unknown_type(mirrored_request, lab_admin_client, account):
    other = QualificationType.objects.create(
        account=account, qualification_type_id="QTYPEOTHER", name="Other"
    )

    shown = lab_admin_client.get(queue_url(account), {"type": "QTYPEMATRIX"})
    empty = lab_admin_client.get(queue_url(account), {"type": other.qualification_type_id})
    unknown = lab_admin_client.get(queue_url(account), {"type": "NOPE"})

    assert [i.request.worker_id for i in shown.context["items"]] == ["AQUEUEWORKER"]
    assert empty.context["items"] == []
    assert unknown.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "queue", "decide"),
    [
        ("anonymous", 302, 302),
        ("staff", 200, 403),
        ("admin", 200, 302),
        ("other_staff", 404, 404),
    ],
)
def test_who_may_see_and_decide(
    personas, account, other_account, mirrored_request, persona, queue, decide
):
    client = personas[persona]

    seen = client.get(queue_url(account))
    decided = client.post(decide_url(account, "QREQUESTONE"), {"action": "reject", "reason": "No"})

    assert (seen.status_code, decided.status_code) == (queue, decide)
    if persona == "anonymous":
        assert seen["Location"].startswith(reverse("login"))
    if persona == "staff":
        body = seen.content.decode()
        assert "AQUEUEWORKER" in body and "request-bulk-form" not in body
    assert RequestDecision.objects.count() == (1 if persona == "admin" else 0)


@pytest.mark.django_db
def test_an_unknown_request_is_404(lab_admin_client, account):
    assert lab_admin_client.post(decide_url(account, "NOSUCHREQUEST"), {}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_key_kept_in_the_dashboard_leaves_requests_waiting_scored_in_the_queue(
    emulator_account, account_gateway, fresh_emulator, lab_admin_client
):
    """The editor's "I decide each one in the queue": MTurk gets the test without its key, so a
    worker who takes it is not granted at once; the queue scores the request with the key."""
    record = account_gateway.create_qualification_type(
        name="Fruit expertise", description="Knows fruit"
    )
    sync_qualifications(account=emulator_account, gateway=account_gateway)
    editor = reverse(
        "qualification-test-edit",
        kwargs={
            "slug": emulator_account.slug,
            "qualification_type_id": record.qualification_type_id,
        },
    )
    saved = lab_admin_client.post(
        editor,
        {
            "action": "save_raw",
            "question_form": QUESTION_FORM,
            "answer_key": ANSWER_KEY,
            "duration_seconds": "300",
            "scoring": "queue",
        },
    )
    assert saved.status_code == 302
    (at_mturk,) = [
        t
        for t in fresh_emulator.control.truth("qualification_types")["qualification_types"]
        if t["QualificationTypeId"] == record.qualification_type_id
    ]
    assert at_mturk.get("Test") and not at_mturk.get("AnswerKey")

    fresh_emulator.control.add_worker(WorkerId="AFRUITWORKER")
    taken = fresh_emulator.control.post(
        "workers/AFRUITWORKER/qualification-requests",
        {"QualificationTypeId": record.qualification_type_id, "answers": {"fruit": "apples"}},
    )
    assert taken["Granted"] is False
    sync_qualifications(account=emulator_account, gateway=account_gateway)

    page = lab_admin_client.get(queue_url(emulator_account))
    (item,) = page.context["items"]
    assert (item.request.worker_id, item.score) == ("AFRUITWORKER", 100)
    # The sync keeps the lab's key: the editor opens with it, choice and all.
    qtype = QualificationType.objects.get(qualification_type_id=record.qualification_type_id)
    assert qtype.answer_key == "" and qtype.review_answer_key
    raw_page = lab_admin_client.get(f"{editor}?mode=raw").content.decode()
    assert re.search(r'name="scoring" value="queue"[^>]*checked', raw_page)
