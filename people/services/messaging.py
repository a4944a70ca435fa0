"""Messages to workers (NotifyWorkers): saved templates with placeholders, planning a message for
many workers, and sending each planned call once.

A message to many workers is planned first (`plan_messages`): every recipient's subject and text
are rendered and checked against MTurk's limits before anything is recorded, and workers whose
rendered message is identical share calls of at most 100 workers. Each call is one `Message`
intent with its `MessageRecipient` rows; `execute_message` sends it and records MTurk's answer per
worker (`NotifyWorkersFailureStatuses`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from dashboard import intents
from dashboard.enums import AuditOutcome, IntentState, JobKind
from dashboard.intents import audited_call, claim
from dashboard.jobs import start_job
from dashboard.models import Job, RequesterAccount
from dashboard.services import record_audit_event
from hits.models import Assignment, HITType
from mturk.gateway import NOTIFY_MAX_WORKERS, MTurkGateway, NotifyResult
from people.enums import RecipientOutcome
from people.models import MAX_MESSAGE, MAX_SUBJECT, Message, MessageRecipient, MessageTemplate

# The placeholders a subject or body may use. Rendering replaces exactly these names and nothing
# else: no attribute or index access (str.format would let "{worker_id.__class__}" reach into
# Python objects), and an unknown name is an error rather than text sent to workers verbatim.
PLACEHOLDERS = {
    "worker_id": "the worker's id",
    "study_title": "the chosen study's title",
    "account_name": "this requester account's name",
}
PLACEHOLDER_RE = re.compile(r"\{([^{}\s]*)\}")
# MTurk worker ids are an upper-case letter followed by upper-case letters and digits.
WORKER_ID_RE = re.compile(r"^A[A-Z0-9]{1,63}$")
# One message is sent to at most this many workers (a bigger list is surely a mistake).
MAX_RECIPIENTS = 10_000
MAX_CSV_BYTES = 2 * 1024 * 1024
PREVIEW_RECIPIENTS = 5
CONFIRMATION_PURPOSE = "people.message"


class MessageProblem(ValueError):
    """A message that cannot be sent as written; the text says why (shown in the form)."""


# --- Placeholders --------------------------------------------------------------------------------


def placeholder_problems(text: str, *, allowed: Iterable[str] = PLACEHOLDERS) -> list[str]:
    """Why `text` cannot be rendered: each unknown placeholder, once."""
    names = set(allowed)
    unknown = list(
        dict.fromkeys(m.group(1) for m in PLACEHOLDER_RE.finditer(text) if m.group(1) not in names)
    )
    return [
        f"Unknown placeholder {{{name}}}: use "
        + ", ".join(f"{{{known}}}" for known in PLACEHOLDERS)
        + "."
        for name in unknown
    ]


def uses_placeholder(text: str, name: str) -> bool:
    return any(m.group(1) == name for m in PLACEHOLDER_RE.finditer(text))


def render(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {name} replaced by values[name], in one pass (a value that itself looks
    like a placeholder is not expanded again). Raises MessageProblem for a name not in `values`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise MessageProblem(f"Unknown placeholder {{{name}}}.")
        return values[name]

    return PLACEHOLDER_RE.sub(replace, text)


# --- Templates -----------------------------------------------------------------------------------


def template_problems(*, subject: str, body: str) -> list[str]:
    """What is wrong with a template's subject and body (unknown placeholders)."""
    return placeholder_problems(subject) + placeholder_problems(body)


def templates_for(account: RequesterAccount) -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(account=account).order_by("name")


def save_template(
    *,
    account: RequesterAccount,
    name: str,
    subject: str,
    body: str,
    user: Any,
    template: MessageTemplate | None = None,
) -> MessageTemplate:
    """Create (template None) or update a saved template. Raises MessageProblem for unknown
    placeholders; the unique name per account is the form's to check."""
    problems = template_problems(subject=subject, body=body)
    if problems:
        raise MessageProblem(" ".join(problems))
    if template is None:
        template = MessageTemplate(account=account, created_by=_user_or_none(user))
    elif template.account_id != account.pk:
        raise MessageProblem("That template belongs to another account.")
    template.name, template.subject, template.body = name, subject, body
    template.save()
    return template


def delete_template(*, account: RequesterAccount, template: MessageTemplate) -> None:
    """Delete a saved template. Messages sent from it keep their rendered text (template SET_NULL)."""
    if template.account_id != account.pk:
        raise MessageProblem("That template belongs to another account.")
    template.delete()


def _user_or_none(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


# --- Recipients ----------------------------------------------------------------------------------


def parse_worker_ids(text: str) -> tuple[list[str], list[str]]:
    """Worker ids pasted one per line (or separated by commas or spaces): (the ids in order without
    repeats, the problems)."""
    ids: list[str] = []
    problems: list[str] = []
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        if WORKER_ID_RE.match(token):
            ids.append(token)
        else:
            problems.append(f"“{token[:70]}” is not a worker id.")
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_RECIPIENTS:
        problems.append(f"{len(ids)} workers: one message goes to at most {MAX_RECIPIENTS}.")
    return ids, problems


def parse_worker_csv(content: bytes) -> tuple[list[str], list[str]]:
    """Worker ids from a CSV file with a WorkerId column (the Requester website's results and
    worker files have one): (the ids in order without repeats, the problems, by line)."""
    if len(content) > MAX_CSV_BYTES:
        return [], [f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB."]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], ["The file is not UTF-8 text: save it as CSV (UTF-8) and upload it again."]
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            return [], ["The file is empty."]
        column = _worker_column(header)
        if column is None:
            return [], [
                "The file has no WorkerId column (its columns are: "
                + ", ".join(name.strip()[:40] for name in header)
                + ")."
            ]
        ids: list[str] = []
        problems: list[str] = []
        for line, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            value = row[column].strip() if column < len(row) else ""
            if not WORKER_ID_RE.match(value):
                problems.append(f"Line {line}: “{value[:70]}” is not a worker id.")
            else:
                ids.append(value)
    except csv.Error as exc:
        return [], [f"The file is not valid CSV: {exc}."]
    ids = list(dict.fromkeys(ids))
    if not ids and not problems:
        problems.append("The file lists no workers.")
    if len(ids) > MAX_RECIPIENTS:
        problems.append(f"{len(ids)} workers: one message goes to at most {MAX_RECIPIENTS}.")
    return ids, problems


def _worker_column(header: Sequence[str]) -> int | None:
    for index, name in enumerate(header):
        if re.sub(r"[\s_.]", "", name).lower() == "workerid":
            return index
    return None


def worker_ids_for_assignments(
    *, account: RequesterAccount, hit_type: HITType, assignment_ids: Iterable[str]
) -> list[str]:
    """The workers of the given assignments of one study (ticked rows of the review grid), in the
    order of the assignments; ids of other studies or accounts are ignored."""
    wanted = list(dict.fromkeys(assignment_ids))
    pairs = dict(
        Assignment.objects.filter(
            hit__account=account, hit__hit_type=hit_type, assignment_id__in=wanted
        ).values_list("assignment_id", "worker__worker_id")
    )
    return list(dict.fromkeys(pairs[a] for a in wanted if a in pairs))


# --- Planning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedCall:
    """One NotifyWorkers call: a rendered subject and text for at most 100 workers."""

    subject: str
    text: str
    worker_ids: tuple[str, ...]


@dataclass
class MessagePlan:
    """What sending a message would do: the calls, a preview of the first recipients' messages,
    and every problem that stops it (nothing is sent while there is one)."""

    worker_ids: list[str]
    calls: list[PlannedCall] = field(default_factory=list)
    previews: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.calls)


def plan_messages(
    *,
    account: RequesterAccount,
    worker_ids: Sequence[str],
    subject: str,
    body: str,
    study: HITType | None = None,
) -> MessagePlan:
    """Render the message for every worker and check it against MTurk's limits (subject 1 to 200
    characters, text 1 to 4,096, after rendering); group workers whose rendered message is
    identical into calls of at most 100. Reads nothing from MTurk and records nothing."""
    ids = list(dict.fromkeys(worker_ids))
    plan = MessagePlan(worker_ids=ids)
    if not ids:
        plan.problems.append("Choose at least one worker.")
    if len(ids) > MAX_RECIPIENTS:
        plan.problems.append(f"{len(ids)} workers: one message goes to at most {MAX_RECIPIENTS}.")
    plan.problems += template_problems(subject=subject, body=body)
    if study is None and (
        uses_placeholder(subject, "study_title") or uses_placeholder(body, "study_title")
    ):
        plan.problems.append("The message uses {study_title}: choose the study it is about.")
    if plan.problems:
        return plan
    values = {"study_title": study.title if study else "", "account_name": account.name}
    groups: dict[tuple[str, str], list[str]] = {}
    too_long: list[str] = []
    too_long_count = 0
    for worker_id in ids:
        each = {**values, "worker_id": worker_id}
        rendered = (render(subject, each).strip(), render(body, each).strip())
        if len(plan.previews) < PREVIEW_RECIPIENTS:
            plan.previews.append((worker_id, *rendered))
        problem = _length_problem(*rendered)
        if problem:
            too_long_count += 1
            if len(too_long) < 20:
                too_long.append(f"{worker_id}: {problem}")
            continue
        groups.setdefault(rendered, []).append(worker_id)
    if too_long:
        plan.problems += too_long
        if too_long_count > len(too_long):
            plan.problems.append(f"… and {too_long_count - len(too_long)} more workers.")
        return plan
    for (rendered_subject, text), members in groups.items():
        for start in range(0, len(members), NOTIFY_MAX_WORKERS):
            plan.calls.append(
                PlannedCall(
                    rendered_subject, text, tuple(members[start : start + NOTIFY_MAX_WORKERS])
                )
            )
    return plan


def _length_problem(subject: str, text: str) -> str:
    problems = []
    if not subject:
        problems.append("the subject is empty")
    elif len(subject) > MAX_SUBJECT:
        problems.append(f"the subject is {len(subject)} characters (at most {MAX_SUBJECT})")
    if not text:
        problems.append("the message is empty")
    elif len(text) > MAX_MESSAGE:
        problems.append(f"the message is {len(text):,} characters (at most {MAX_MESSAGE:,})")
    return "; ".join(problems)


def confirmation_binding(
    *,
    worker_ids: Sequence[str],
    subject: str,
    body: str,
    template: MessageTemplate | None,
    study: HITType | None,
) -> dict[str, Any]:
    """What a confirmation page showed, for its one-time token (dashboard.confirmations)."""
    return {
        "workers": list(worker_ids),
        "subject": subject,
        "body": body,
        "template": template.pk if template else None,
        "study": study.pk if study else None,
    }


# --- Recording -----------------------------------------------------------------------------------


def request_messages(
    *,
    account: RequesterAccount,
    worker_ids: Sequence[str],
    subject: str,
    body: str,
    template: MessageTemplate | None = None,
    study: HITType | None = None,
    requested_by: Any = None,
    job: Job | None = None,
) -> list[Message]:
    """Record one pending Message per planned call, with its recipients (pending). Raises
    MessageProblem, recording nothing, when the plan has a problem (length, placeholder)."""
    plan = plan_messages(
        account=account, worker_ids=worker_ids, subject=subject, body=body, study=study
    )
    if not plan.ok:
        raise MessageProblem(" ".join(plan.problems) or "Nothing to send.")
    user = _user_or_none(requested_by)
    with transaction.atomic():
        messages = Message.objects.bulk_create(
            [
                Message(
                    account=account,
                    job=job,
                    requested_by=user,
                    template=template,
                    subject=call.subject,
                    text=call.text,
                )
                for call in plan.calls
            ]
        )
        MessageRecipient.objects.bulk_create(
            [
                MessageRecipient(message=message, account=account, worker_id=worker_id)
                for message, call in zip(messages, plan.calls, strict=True)
                for worker_id in call.worker_ids
            ],
            batch_size=1000,
        )
    return messages


@dataclass(frozen=True)
class MessageStart:
    """What `start_messages` recorded: a job for many workers, or one message on its own."""

    job: Job | None
    messages: list[Message]


def start_messages(
    *,
    account: RequesterAccount,
    worker_ids: Sequence[str],
    subject: str,
    body: str,
    template: MessageTemplate | None = None,
    study: HITType | None = None,
    requested_by: Any = None,
) -> MessageStart:
    """Record the message and have it sent after commit: one worker is one intent sent by its own
    task (people.send_message); more go through a job (JobKind.WORKER_MESSAGE) whose page shows
    the progress. Raises MessageProblem, recording nothing, when the message cannot be sent."""
    ids = list(dict.fromkeys(worker_ids))
    with transaction.atomic():
        job = (
            start_job(
                account=account,
                kind=JobKind.WORKER_MESSAGE,
                title=f"Message {len(ids)} workers: “{subject[:80]}”",
                parameters={"workers": len(ids), "study": study.hit_type_id if study else ""},
                created_by=requested_by,
            )
            if len(ids) > 1
            else None
        )
        messages = request_messages(
            account=account,
            worker_ids=ids,
            subject=subject,
            body=body,
            template=template,
            study=study,
            requested_by=requested_by,
            job=job,
        )
        if job is None:
            intents.send_after_commit(messages)
        else:
            Job.objects.filter(pk=job.pk).update(total=len(messages))
    return MessageStart(job, messages)


# --- Sending -------------------------------------------------------------------------------------


def execute_message(
    *, message_id: int, gateway: MTurkGateway, reclaim_sending: bool = False
) -> Message | None:
    """Send one pending message (one NotifyWorkers call) and record each worker's outcome;
    returns the row as it ended (None when someone else has it or it is finished).

    A row found in `sending` whose worker went silent (or, with `reclaim_sending`, any: the job's
    earlier worker died) is NOT sent again. NotifyWorkers takes no UniqueRequestToken and MTurk
    offers no way to ask what it delivered, so a resend could message every worker twice; the row
    ends failed instead and its recipients read "unknown". A throttled or 5xx call goes back to
    pending: MTurk did not process it, so sending it again is safe."""
    row = Message.objects.filter(pk=message_id).values("state", "claimed_at").first()
    if row is None:
        return None
    if row["state"] == IntentState.SENDING:
        return _end_interrupted(message_id, row["claimed_at"], reclaim_sending=reclaim_sending)
    if row["state"] != IntentState.PENDING:
        return None
    # The row was pending just now, so this claim takes it from pending (or finds that another
    # worker has just claimed it, which is not stale): it never takes over a `sending` row here.
    message = claim(Message, message_id)
    if message is None:
        return None
    worker_ids = list(message.recipients.values_list("worker_id", flat=True))

    def send() -> NotifyResult:
        return gateway.notify_workers_once(
            subject=message.subject, message_text=message.text, worker_ids=worker_ids
        )

    def record(result: NotifyResult) -> None:
        recipients = MessageRecipient.objects.filter(message=message)
        failed: set[str] = set()
        for failure in result.failures:
            outcome = (
                RecipientOutcome.SOFT_FAILURE
                if failure.code == "SoftFailure"
                else RecipientOutcome.HARD_FAILURE
            )
            recipients.filter(worker_id=failure.worker_id).update(
                outcome=outcome, failure_message=failure.message[:2000]
            )
            failed.add(failure.worker_id)
        recipients.exclude(worker_id__in=failed).update(
            outcome=RecipientOutcome.SENT, failure_message=""
        )

    audited_call(message, send, on_success=record)
    if message.state == IntentState.FAILED:
        MessageRecipient.objects.filter(message=message, outcome=RecipientOutcome.PENDING).update(
            outcome=RecipientOutcome.FAILED, failure_message=message.error[:2000]
        )
    return message


INTERRUPTED_ERROR = (
    "The worker sending this message stopped mid-call. NotifyWorkers cannot be asked what it "
    "delivered and takes no token, so the message was not sent again: its workers may or may not "
    "have received it."
)


def _end_interrupted(message_id: int, claimed_at: Any, *, reclaim_sending: bool) -> Message | None:
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    if not reclaim_sending and (claimed_at is None or claimed_at > stale):
        return None  # another worker is sending it now
    with transaction.atomic():
        # Conditional on the very claim we saw, so of two workers finding it, one ends it.
        ended = Message.objects.filter(
            pk=message_id, state=IntentState.SENDING, claimed_at=claimed_at
        ).update(state=IntentState.FAILED, error=INTERRUPTED_ERROR, finished_at=timezone.now())
        if not ended:
            return None
        message = Message.objects.select_related("account", "requested_by").get(pk=message_id)
        MessageRecipient.objects.filter(message=message).exclude(
            outcome__in=[
                RecipientOutcome.SENT,
                RecipientOutcome.SOFT_FAILURE,
                RecipientOutcome.HARD_FAILURE,
            ]
        ).update(outcome=RecipientOutcome.UNKNOWN, failure_message=INTERRUPTED_ERROR)
        record_audit_event(
            action=message.audit_action(),
            outcome=AuditOutcome.FAILED,
            actor=message.requested_by,
            account=message.account,
            target_ids=message.audit_targets(),
            parameters={**message.audit_parameters(), "interrupted": True},
            error=INTERRUPTED_ERROR,
        )
    return message


def settle_abandoned_recipients(messages: QuerySet[Message]) -> int:
    """Recipients of messages given up or failed before any call (still `pending`) are marked
    not sent, so no worker reads as waiting forever. Returns how many were changed."""
    return MessageRecipient.objects.filter(
        message__in=messages.filter(state__in=IntentState.failures()),
        outcome=RecipientOutcome.PENDING,
    ).update(outcome=RecipientOutcome.FAILED, failure_message="Not sent: the message was given up.")


# --- Reading -------------------------------------------------------------------------------------


def message_history(account: RequesterAccount) -> QuerySet[Message]:
    """The account's messages, newest first, with per-outcome recipient counts."""
    outcome_counts = {
        f"n_{outcome}": Count("recipients", filter=Q(recipients__outcome=outcome))
        for outcome in RecipientOutcome.values
    }
    return (
        Message.objects.filter(account=account)
        .select_related("requested_by", "template", "job")
        .annotate(n_recipients=Count("recipients"), **outcome_counts)
        .order_by("-created_at", "-pk")
    )


def with_recipients(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.prefetch_related(
        Prefetch("recipients", queryset=MessageRecipient.objects.order_by("worker_id"))
    )


def messages_for_worker(account: RequesterAccount, worker_id: str) -> QuerySet[MessageRecipient]:
    """Every message sent (or meant) to one worker on the account, newest first: each row has
    `message` (subject, text, created_at, state) and the worker's own `outcome` and
    `failure_message`. For the worker's page."""
    return (
        MessageRecipient.objects.filter(account=account, worker_id=worker_id)
        .select_related("message", "message__requested_by")
        .order_by("-message__created_at", "-message__pk")
    )
