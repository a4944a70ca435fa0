"""The qualification request queue: workers' pending requests (mirrored from
ListQualificationRequests by the sync), the score the type's answer key gives each, and deciding
them (accept with a value, reject with a reason) as intents.

Every decision is a RequestDecision row (dashboard.intents): recorded first, then sent once by a
task (one decision) or by a QUALIFICATION_REQUESTS job (many, at the account's rate). A request
takes one decision: the model's constraint allows one that has not failed per request, so a double
click, two tabs or two jobs decide it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.html import strip_tags

from dashboard import intents
from dashboard.enums import IntentState, JobKind
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from mturk.answers import parse_answers
from mturk.errors import InvalidState, MTurkError, NotFound, NotGranted
from mturk.gateway import MTurkGateway
from mturk.qualification_test import score_answers
from mturk.xmlread import child_text, find_child, find_children, local_name, parse_xml
from qualifications.enums import RequestAction
from qualifications.models import (
    Qualification,
    QualificationRequest,
    QualificationType,
    RequestDecision,
)
from qualifications.test_editor import scoring_key

# The one-time token purpose of the bulk confirmation page (dashboard.confirmations).
BULK_CONFIRMATION = "qualification-requests.bulk"
# MTurk's limit on RejectQualificationRequest's Reason.
MAX_REASON = 1024
# MTurk's default value when a request is accepted without one.
DEFAULT_VALUE = 1
GRANTED = "Granted"


class DecisionRefused(ValueError):
    """A decision that cannot be recorded as asked (no reason for a rejection...)."""


@dataclass(frozen=True)
class DecisionResult:
    """What `audited_call` needs from an accept or a reject (dashboard.intents.CallResult)."""

    request_id: str | None
    already: bool = False


@dataclass
class DecisionOutcome:
    decisions: list[RequestDecision] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (request id, why)


# --- Reading the queue ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    identifier: str
    text: str


@dataclass
class QuestionAnswer:
    """One test question beside the worker's answer and what the answer key says is right."""

    identifier: str
    text: str
    given: list[str]  # the worker's answer, as display texts
    right: list[str]  # the key's best-scoring option(s), as display texts; empty without a key
    correct: bool | None  # None when the key does not cover the question


@dataclass
class PendingRequest:
    request: QualificationRequest
    score: int | None  # what the type's answer key gives the answers; None without a key
    questions: list[QuestionAnswer]
    problem: str = ""  # why the answers could not be read, when they could not


def _undecided() -> Exists:
    return Exists(
        RequestDecision.objects.filter(
            account=OuterRef("account"),
            qualification_request_id=OuterRef("qualification_request_id"),
        ).exclude(state__in=IntentState.failures())
    )


def pending_requests(
    *, account: RequesterAccount, qualification_type: QualificationType | None = None
) -> QuerySet[QualificationRequest]:
    """The account's requests that wait for us: mirrored as pending and with no decision that has
    not failed (a decision on its way hides the request at once, before MTurk or the sync)."""
    rows = QualificationRequest.objects.filter(account=account).exclude(_undecided())
    if qualification_type is not None:
        rows = rows.filter(qualification_type=qualification_type)
    return rows.select_related("qualification_type").order_by("submit_time", "pk")


def _content_text(elem: Element | None) -> str:
    """The plain text of a QuestionContent or a Selection: its Text elements, else its
    FormattedContent with the tags taken out (it is shown as text, escaped, never as HTML)."""
    if elem is None:
        return ""
    texts = [(child.text or "").strip() for child in find_children(elem, "Text")]
    if any(texts):
        return " ".join(t for t in texts if t)
    formatted = child_text(elem, "FormattedContent")
    return " ".join(strip_tags(formatted).split())


def _test_questions(test_xml: str) -> list[tuple[str, str, dict[str, str]]]:
    """(identifier, question text, selection id -> text) per question of a QuestionForm."""
    root, _problem = parse_xml(test_xml) if test_xml.strip() else (None, "")
    if root is None:
        return []
    questions = []
    for question in (e for e in root.iter() if local_name(e.tag) == "Question"):
        choices: dict[str, str] = {}
        for selection in (e for e in question.iter() if local_name(e.tag) == "Selection"):
            ident = child_text(selection, "SelectionIdentifier")
            choices[ident] = _content_text(selection) or ident
        text = child_text(question, "DisplayName") or _content_text(
            find_child(question, "QuestionContent")
        )
        questions.append((child_text(question, "QuestionIdentifier"), text, choices))
    return questions


def _key_answers(answer_key_xml: str) -> dict[str, list[list[str]]]:
    """Question id -> the selection sets that earn the question's best score in the key."""
    root, _problem = parse_xml(answer_key_xml) if answer_key_xml.strip() else (None, "")
    if root is None or local_name(root.tag) != "AnswerKey":
        return {}
    best: dict[str, list[list[str]]] = {}
    for question in find_children(root, "Question"):
        options = []
        for option in find_children(question, "AnswerOption"):
            try:
                score = float(child_text(option, "AnswerScore") or 0)
            except ValueError:
                continue
            ids = sorted(
                (c.text or "").strip() for c in find_children(option, "SelectionIdentifier")
            )
            options.append((score, ids))
        if options:
            top = max(score for score, _ in options)
            if top > 0:
                best[child_text(question, "QuestionIdentifier")] = [
                    ids for score, ids in options if score == top
                ]
    return best


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def read_request(request: QualificationRequest) -> PendingRequest:
    """The request with its answers beside the test's questions and the answer key's score."""
    qtype = request.qualification_type
    test = request.test or qtype.test
    parsed = parse_answers(request.answer) if request.answer.strip() else None
    fields = parsed.fields if parsed is not None else {}
    key = _key_answers(scoring_key(qtype))
    questions = []
    seen = set()
    for ident, text, choices in _test_questions(test):
        seen.add(ident)
        given_ids = _as_list(fields.get(ident))
        right_sets = key.get(ident, [])

        def show(ids: Iterable[str], choices: dict[str, str] = choices) -> list[str]:
            return [choices.get(i, i) for i in ids]

        questions.append(
            QuestionAnswer(
                identifier=ident,
                text=text or ident,
                # A free-text answer is no selection id: shown as the worker wrote it.
                given=show(given_ids),
                right=[", ".join(show(ids)) for ids in right_sets],
                correct=(sorted(i.strip() for i in given_ids) in right_sets)
                if right_sets
                else None,
            )
        )
    # Answers to questions the test no longer has (it was edited since) are shown too.
    for ident, value in fields.items():
        if ident not in seen:
            questions.append(QuestionAnswer(ident, ident, _as_list(value), [], None))
    problem = ""
    if parsed is None:
        problem = "The worker sent no answers."
    elif not parsed.ok:
        problem = parsed.error
    return PendingRequest(
        request=request, score=auto_score(request), questions=questions, problem=problem
    )


def auto_score(request: QualificationRequest) -> int | None:
    """The value the type's answer key gives the request's answers (the mirror holds the key
    MTurk returns with the type); None without a key, or when the answers cannot be read."""
    qtype = request.qualification_type
    key = scoring_key(qtype)
    return score_answers(key, request.answer) if key else None


# --- Recording ------------------------------------------------------------------------------------


def _check(action: RequestAction, integer_value: int | None, reason: str) -> None:
    if action == RequestAction.REJECT and not reason.strip():
        # MTurk's Reason is optional, but the worker sees it: a rejection says why.
        raise DecisionRefused("A rejection needs a reason: the worker sees it.")
    if len(reason) > MAX_REASON:
        raise DecisionRefused(f"The reason is longer than MTurk's {MAX_REASON} characters.")
    if integer_value is not None and not -(2**31) <= integer_value < 2**31:
        raise DecisionRefused("The value must be a 32-bit integer.")


def request_decisions(
    *,
    account: RequesterAccount,
    request_ids: Iterable[str],
    action: RequestAction | str,
    integer_value: int | None = None,
    reason: str = "",
    requested_by: Any = None,
    job: Job | None = None,
) -> DecisionOutcome:
    """Record a decision for each of the account's pending requests named (MTurk request ids);
    nothing is sent. Accepting without a value gives each request its answer key's score when the
    type has a key (else MTurk's default, 1). Requests already decided (or no longer pending) are
    skipped with why. Single decisions (no `job`) are sent by `intents.send_after_commit`."""
    action = RequestAction(action)
    reason = reason.strip()
    _check(action, integer_value, reason)
    user = requested_by if getattr(requested_by, "is_authenticated", False) else None
    ids = [i for i in dict.fromkeys(r.strip() for r in request_ids) if i]
    outcome = DecisionOutcome()
    with transaction.atomic():
        pending = {
            r.qualification_request_id: r
            for r in pending_requests(account=account).filter(qualification_request_id__in=ids)
        }
        rows = []
        for request_id in ids:
            request = pending.get(request_id)
            if request is None:
                outcome.skipped.append((request_id, "it is decided already or no longer pending"))
                continue
            value = None
            if action == RequestAction.ACCEPT:
                value = integer_value if integer_value is not None else auto_score(request)
            rows.append(
                RequestDecision(
                    account=account,
                    request=request,
                    qualification_request_id=request_id,
                    qualification_type=request.qualification_type,
                    worker_id=request.worker_id,
                    action=action,
                    integer_value=value,
                    reason=reason if action == RequestAction.REJECT else "",
                    requested_by=user,
                    job=job,
                )
            )
        # Another request (a double click, another tab) may have decided some meanwhile.
        rows = intents.save_new(
            rows,
            refused=lambda row: outcome.skipped.append(
                (row.qualification_request_id, "it is decided already")
            ),
        )
    outcome.decisions = rows
    return outcome


def decide_one(
    *,
    account: RequesterAccount,
    request_id: str,
    action: RequestAction | str,
    integer_value: int | None = None,
    reason: str = "",
    requested_by: Any = None,
) -> DecisionOutcome:
    """One decision from the queue's row, sent by its own task."""
    with transaction.atomic():
        outcome = request_decisions(
            account=account,
            request_ids=[request_id],
            action=action,
            integer_value=integer_value,
            reason=reason,
            requested_by=requested_by,
        )
        intents.send_after_commit(outcome.decisions)
    return outcome


def bulk_binding(
    *, request_ids: Sequence[str], action: str, integer_value: int | None, reason: str
) -> dict[str, Any]:
    """What a bulk confirmation page showed, for its token (dashboard.confirmations)."""
    return {
        "requests": sorted(set(request_ids)),
        "action": str(action),
        "value": integer_value,
        "reason": reason.strip(),
    }


def start_bulk_decision(
    *,
    account: RequesterAccount,
    request_ids: Sequence[str],
    action: RequestAction | str,
    integer_value: int | None = None,
    reason: str = "",
    requested_by: Any = None,
) -> tuple[Job | None, DecisionOutcome]:
    """Record the decisions under one QUALIFICATION_REQUESTS job that sends them at the account's
    rate. No job when nothing is left to decide."""
    action = RequestAction(action)
    _check(action, integer_value, reason.strip())
    with transaction.atomic():
        job = start_job(
            account=account,
            kind=JobKind.QUALIFICATION_REQUESTS,
            title=f"{action.label} {len(request_ids)} qualification request(s)",
            parameters={"action": str(action), "value": integer_value},
            created_by=requested_by,
        )
        outcome = request_decisions(
            account=account,
            request_ids=request_ids,
            action=action,
            integer_value=integer_value,
            reason=reason,
            requested_by=requested_by,
            job=job,
        )
        if not outcome.decisions:
            # Nothing to send: no job either (start_job enqueues only after commit).
            transaction.set_rollback(True)
            return None, outcome
        Job.objects.filter(pk=job.pk).update(total=len(outcome.decisions))
    return job, outcome


def open_decisions(account: RequesterAccount, request_ids: Iterable[str]) -> dict[str, Any]:
    """The latest decision of each named request (for the queue's row after a click)."""
    latest: dict[str, Any] = {}
    for decision in RequestDecision.objects.filter(
        account=account, qualification_request_id__in=list(request_ids)
    ).order_by("pk"):
        latest[decision.qualification_request_id] = decision
    return latest


# --- Sending --------------------------------------------------------------------------------------


def _apply_to_mirror(decision: RequestDecision) -> None:
    """What MTurk now holds: the request is no longer pending; an accepted one is a score. Written
    so pages show it before the next sync (which would say the same)."""
    now = timezone.now()
    if decision.action == RequestAction.ACCEPT:
        Qualification.objects.update_or_create(
            qualification_type=decision.qualification_type,
            worker_id=decision.worker_id,
            defaults={
                "account": decision.account,
                "integer_value": DEFAULT_VALUE
                if decision.integer_value is None
                else decision.integer_value,
                "status": GRANTED,
                "grant_time": now,
                "synced_at": now,
            },
        )
    QualificationRequest.objects.filter(
        account=decision.account, qualification_request_id=decision.qualification_request_id
    ).delete()


def _holds(gateway: MTurkGateway, type_id: str, worker_id: str) -> bool:
    try:
        gateway.get_qualification_score(qualification_type_id=type_id, worker_id=worker_id)
    except NotGranted:
        return False
    return True


def execute_request_decision(
    *, decision_id: int, gateway: MTurkGateway, reclaim_sending: bool = False
) -> RequestDecision | None:
    """Send one decision if nobody else has it; returns the row as it ended (None when it was not
    claimable)."""
    decision = intents.claim(
        RequestDecision,
        decision_id,
        reclaim_sending=reclaim_sending,
        select_related=["qualification_type"],
    )
    if decision is None:
        return None
    type_id = decision.qualification_type.qualification_type_id

    def send() -> DecisionResult:
        try:
            if decision.action == RequestAction.ACCEPT:
                return DecisionResult(
                    gateway.accept_qualification_request(
                        qualification_request_id=decision.qualification_request_id,
                        integer_value=decision.integer_value,
                    )
                )
            return DecisionResult(
                gateway.reject_qualification_request(
                    qualification_request_id=decision.qualification_request_id,
                    reason=decision.reason or None,
                )
            )
        except (NotFound, InvalidState) as exc:
            # MTurk forgets a request once it is decided, so deciding it again errors ("does not
            # exist") rather than answering as before: a resend after a crash meets this. What
            # the worker holds now tells whether it was decided our way: accepted means they hold
            # the type; rejected means they do not (they cannot hold it while a request waits).
            if exc.retryable:
                raise
            holds = _holds(gateway, type_id, decision.worker_id)
            if holds == (decision.action == RequestAction.ACCEPT):
                return DecisionResult(exc.request_id, already=True)
            why = (
                "the worker holds the type: it was accepted outside the dashboard"
                if holds
                else "the worker does not hold the type: it was rejected outside the dashboard "
                "(or withdrawn)"
            )
            raise MTurkError(
                f"The request was decided the other way ({why}). MTurk said: {exc.message}",
                code=exc.code,
                turk_error_code=exc.turk_error_code,
                operation=exc.operation,
                request_id=exc.request_id,
            ) from exc

    return intents.audited_call(
        decision, send, on_success=lambda _result: _apply_to_mirror(decision)
    )
