"""The shared intent machinery (dashboard.intents), exercised on its first concrete intent, Decision.

The gateway call is the boundary here: `audited_call` is given the outcome a real gateway call
returns (a ReviewResult) or raises (an MTurkError subclass); the end-to-end paths through the
emulator are in tests/hits/test_decisions.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from dashboard import intents
from dashboard.enums import IntentState
from dashboard.models import AuditEvent
from hits.enums import DecisionAction
from hits.models import Decision
from mturk.errors import InvalidState, Throttled
from mturk.gateway import ReviewResult
from tests.factories import AssignmentFactory


@pytest.fixture
def decision(account, admin_user) -> Decision:
    assignment = AssignmentFactory(hit__hit_type__account=account)
    return Decision.objects.create(
        account=account,
        assignment=assignment,
        action=DecisionAction.APPROVE,
        feedback="Thanks",
        requested_by=admin_user,
    )


def _approved(decision: Decision, *, already: bool = False) -> ReviewResult:
    return ReviewResult(
        assignment_id=decision.assignment.assignment_id,
        outcome="already_approved" if already else "approved",
        request_id="req-1",
    )


@pytest.mark.django_db
def test_a_pending_intent_is_claimed_once(decision):
    claimed = intents.claim(Decision, decision.pk)

    assert claimed is not None and claimed.state == IntentState.SENDING and claimed.attempts == 1
    assert intents.claim(Decision, decision.pk) is None


@pytest.mark.django_db
def test_a_sending_intent_is_claimed_again_only_when_its_worker_went_silent(decision):
    assert intents.claim(Decision, decision.pk) is not None
    assert intents.claim(Decision, decision.pk) is None
    # The caller that owns the job whose worker died may take it over at once.
    assert intents.claim(Decision, decision.pk, reclaim_sending=True) is not None

    Decision.objects.filter(pk=decision.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    )
    again = intents.claim(Decision, decision.pk)
    assert again is not None and again.attempts == 3


@pytest.mark.django_db
def test_a_finished_intent_cannot_be_claimed(decision):
    Decision.objects.filter(pk=decision.pk).update(state=IntentState.DONE)

    assert intents.claim(Decision, decision.pk) is None
    assert intents.claim(Decision, decision.pk, reclaim_sending=True) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("already", "state"), [(False, IntentState.DONE), (True, IntentState.ALREADY)]
)
def test_a_successful_call_is_recorded_with_its_audit_event(decision, already, state):
    claimed = intents.claim(Decision, decision.pk)
    applied = []

    result = intents.audited_call(
        claimed, lambda: _approved(decision, already=already), on_success=applied.append
    )

    assert result.state == state and len(applied) == 1
    row = Decision.objects.get(pk=decision.pk)
    assert (row.state, row.mturk_request_id, row.error) == (state, "req-1", "")
    assert row.finished_at is not None
    event = AuditEvent.objects.get(action="assignment.approve")
    assert event.outcome == "succeeded" and event.mturk_request_id == "req-1"
    assert event.parameters == {"feedback": "Thanks", "already": already}
    assert event.target_ids["assignment"] == decision.assignment.assignment_id


@pytest.mark.django_db
def test_a_retryable_error_puts_the_intent_back_without_an_audit_event(decision):
    claimed = intents.claim(Decision, decision.pk)

    def throttled() -> ReviewResult:
        raise Throttled("Rate exceeded", code="ThrottlingException", request_id="req-2")

    result = intents.audited_call(claimed, throttled)

    row = Decision.objects.get(pk=decision.pk)
    assert result.state == row.state == IntentState.PENDING
    assert "Rate exceeded" in row.error and row.finished_at is None
    assert not AuditEvent.objects.filter(action="assignment.approve").exists()


@pytest.mark.django_db
def test_a_refusal_fails_the_intent_with_an_audit_event(decision):
    claimed = intents.claim(Decision, decision.pk)

    def refused() -> ReviewResult:
        raise InvalidState("This operation can be called with a status of: Submitted")

    intents.audited_call(claimed, refused)

    row = Decision.objects.get(pk=decision.pk)
    assert row.state == IntentState.FAILED and row.finished_at is not None
    assert AuditEvent.objects.get(action="assignment.approve").outcome == "failed"


@pytest.mark.django_db
def test_giving_up_ends_an_open_intent_once_with_an_audit_event(decision):
    Decision.objects.filter(pk=decision.pk).update(attempts=intents.MAX_ATTEMPTS, error="boom")
    decision.refresh_from_db()

    assert intents.give_up(decision) is True
    assert intents.give_up(decision) is False

    row = Decision.objects.get(pk=decision.pk)
    assert row.state == IntentState.GAVE_UP and row.error.startswith("Gave up after 6 attempts")
    assert AuditEvent.objects.filter(action="assignment.approve", outcome="failed").count() == 1


@pytest.mark.django_db
def test_requeue_sends_lost_intents_and_gives_up_worn_ones(decision, account, monkeypatch):
    sent = []
    monkeypatch.setattr(intents, "enqueue_task", lambda name, **kw: sent.append((name, kw)))
    worn = Decision.objects.create(
        account=account,
        assignment=AssignmentFactory(hit__hit_type__account=account),
        action=DecisionAction.APPROVE,
        attempts=intents.MAX_ATTEMPTS,
    )
    fresh = Decision.objects.create(
        account=account,
        assignment=AssignmentFactory(hit__hit_type__account=account),
        action=DecisionAction.APPROVE,
    )
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    Decision.objects.filter(pk__in=[decision.pk, worn.pk]).update(created_at=two_minutes_ago)

    assert intents.requeue_stale(Decision) == 1

    assert sent == [("hits.execute_decision", {"intent_id": decision.pk})]
    assert Decision.objects.get(pk=worn.pk).state == IntentState.GAVE_UP
    assert Decision.objects.get(pk=fresh.pk).state == IntentState.PENDING


def test_every_concrete_intent_model_is_found():
    assert Decision in intents.intent_models()


@pytest.mark.django_db
def test_the_request_token_is_derived_from_the_row_id(decision, monkeypatch):
    monkeypatch.setattr(Decision, "token_kind", "decision")

    assert decision.unique_request_token == f"decision-{decision.pk}"
    with pytest.raises(ValueError):
        _ = Decision(account=decision.account, assignment=decision.assignment).unique_request_token
