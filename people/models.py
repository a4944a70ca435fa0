"""What the lab does with the workers it meets: notes and tags, a bonus ledger that cannot pay
twice, hard blocks, messages, and study groups whose workers are kept out of the group's next
study. Every change sent to MTurk is an intent row (dashboard.models.Intent)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from dashboard.models import Intent, RequesterAccount
from hits.models import HITType
from mturk.fees import bonus_fee
from people.enums import BlockAction, RecipientOutcome
from qualifications.models import QualificationType

OPEN_STATES = ["pending", "sending"]
FAILED_STATES = ["failed", "gave_up"]

# MTurk's limits (API reference: SendBonus Reason, CreateWorkerBlock Reason, NotifyWorkers).
MAX_REASON = 1024
MAX_SUBJECT = 200
MAX_MESSAGE = 4096


# --- Notes and tags ------------------------------------------------------------------------------


class WorkerNote(models.Model):
    """A lab member's note about a worker (never sent to MTurk)."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    worker_id = models.CharField(max_length=64)
    text = models.TextField(max_length=2000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "worker_id"])]

    def __str__(self) -> str:
        return f"note on {self.worker_id}"


class WorkerTag(models.Model):
    """A label lab members put on a worker ("reliable", "check-answers"); filterable."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    worker_id = models.CharField(max_length=64)
    tag = models.CharField(max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tag"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "worker_id", "tag"], name="uniq_tag_per_worker"
            )
        ]
        indexes = [models.Index(fields=["account", "tag"])]

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.tag}"


# --- Bonuses -------------------------------------------------------------------------------------


BONUS_STATE_LABELS = {"done": "Sent", "already": "Sent (found already paid at MTurk)"}


class BonusRun(models.Model):
    """One bulk bonus: an uploaded file (kept as uploaded, so the confirmation pays exactly what
    was previewed) planned again at confirmation and paid by one job. `job` is set once, by the
    first confirmation: a double submit finds it set and shows that job."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    content_sha256 = models.CharField(max_length=64, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.OneToOneField(
        "dashboard.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename or f"bonus run {self.pk}"


class Bonus(Intent):
    """One row of the bonus ledger: a payment we mean to make (SendBonus), sent once.

    Its UniqueRequestToken comes from the row id, so a retry within MTurk's 24 hours is refused
    by MTurk itself; past that, and whenever an earlier attempt's outcome is unknown, the sender
    first looks for the payment in ListBonusPayments for the assignment. The constraints make a
    second ledger row for the same worker and assignment impossible unless it is an explicit
    "pay again" with its reason, and keep one bonus per assignment in flight at a time."""

    run = models.ForeignKey(
        BonusRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="bonuses"
    )
    worker_id = models.CharField(max_length=64)
    assignment_id = models.CharField(max_length=64)
    hit_id = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    # Shown to the worker by MTurk.
    reason = models.TextField(max_length=MAX_REASON)
    pay_again = models.BooleanField(default=False)
    # Why the lab pays this worker a second time for the same assignment (kept for the audit log).
    pay_again_reason = models.TextField(blank=True)

    execute_task = "people.send_bonus"
    token_kind = "bonus"

    class Meta:
        verbose_name_plural = "bonuses"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "worker_id", "assignment_id"],
                condition=Q(pay_again=False) & ~Q(state__in=FAILED_STATES),
                name="one_bonus_per_assignment_unless_paid_again",
            ),
            models.UniqueConstraint(
                fields=["account", "assignment_id"],
                condition=Q(state__in=OPEN_STATES),
                name="one_open_bonus_per_assignment",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bonus_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["job", "state"]),
            models.Index(fields=["account", "worker_id"]),
            models.Index(fields=["account", "assignment_id"]),
        ]

    def __str__(self) -> str:
        return f"${self.amount} to {self.worker_id} for {self.assignment_id} [{self.state}]"

    @property
    def fee(self) -> Decimal:
        return bonus_fee(self.amount)

    @property
    def state_label(self) -> str:
        """The state in a ledger's words: a bonus is "sent", not "done"."""
        return BONUS_STATE_LABELS.get(self.state) or self.get_state_display()

    def audit_action(self) -> str:
        return "bonus.send"

    def audit_targets(self) -> dict[str, str]:
        targets = {"worker": self.worker_id, "assignment": self.assignment_id}
        if self.hit_id:
            targets["hit"] = self.hit_id
        return targets

    def audit_parameters(self) -> dict[str, Any]:
        parameters: dict[str, Any] = {"amount": str(self.amount), "reason": self.reason}
        if self.pay_again:
            parameters["pay_again_reason"] = self.pay_again_reason
        return parameters


# --- Hard blocks ---------------------------------------------------------------------------------


class BlockChange(Intent):
    """Blocking a worker at MTurk (CreateWorkerBlock, reason required) or lifting the block
    (DeleteWorkerBlock). Both are idempotent at MTurk, so a resend after a crash is harmless.
    Soft blocks are qualification grants (qualifications.models.QualificationGrant)."""

    worker_id = models.CharField(max_length=64)
    action = models.CharField(max_length=10, choices=BlockAction.choices)
    reason = models.TextField(max_length=MAX_REASON, blank=True)

    execute_task = "people.send_block_change"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "worker_id"],
                condition=Q(state__in=OPEN_STATES),
                name="one_open_block_change_per_worker",
            )
        ]
        indexes = [
            models.Index(fields=["job", "state"]),
            models.Index(fields=["account", "worker_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.worker_id} [{self.state}]"

    def audit_action(self) -> str:
        return f"worker.{self.action}"

    def audit_targets(self) -> dict[str, str]:
        return {"worker": self.worker_id}

    def audit_parameters(self) -> dict[str, Any]:
        return {"reason": self.reason}


# --- Messages ------------------------------------------------------------------------------------


class MessageTemplate(models.Model):
    """A saved subject and body with placeholders ({worker_id}, {study_title})."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    subject = models.CharField(max_length=MAX_SUBJECT)
    body = models.TextField(max_length=MAX_MESSAGE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="uniq_message_template_name")
        ]

    def __str__(self) -> str:
        return self.name


class Message(Intent):
    """One NotifyWorkers call: a subject and text, as rendered, to at most 100 workers (MTurk's
    limit). Workers whose rendered text differs (a {worker_id} placeholder) get separate calls.
    NotifyWorkers takes no token and MTurk cannot be asked what it sent, so a call interrupted by a
    crash is not resent: its recipients read "unknown"."""

    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=MAX_SUBJECT)
    text = models.TextField(max_length=MAX_MESSAGE)

    execute_task = "people.send_message"

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self) -> str:
        return f"“{self.subject[:40]}” [{self.state}]"

    def audit_action(self) -> str:
        return "worker.notify"

    def audit_targets(self) -> dict[str, str]:
        ids = list(self.recipients.values_list("worker_id", flat=True))
        return {"workers": ",".join(ids)}

    def audit_parameters(self) -> dict[str, Any]:
        return {"subject": self.subject, "text": self.text}


class MessageRecipient(models.Model):
    """One worker of a message, with what MTurk said about them."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="recipients")
    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    worker_id = models.CharField(max_length=64)
    outcome = models.CharField(
        max_length=15, choices=RecipientOutcome.choices, default=RecipientOutcome.PENDING
    )
    failure_message = models.TextField(blank=True)

    class Meta:
        ordering = ["worker_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "worker_id"], name="uniq_recipient_per_message"
            )
        ]
        indexes = [models.Index(fields=["account", "worker_id"])]

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.outcome}"


# --- Study groups --------------------------------------------------------------------------------


class StudyGroup(models.Model):
    """Studies (HIT types) that exclude one another's workers: whoever did any HIT type of the
    group is granted the group's exclusion qualification (made on first use), which HITs published
    from the dashboard for the group require to be absent."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    hit_types = models.ManyToManyField(HITType, blank=True, related_name="study_groups")
    qualification_type = models.ForeignKey(
        QualificationType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The group's exclusion qualification; made at MTurk when first needed.",
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive groups exclude no new workers."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="uniq_study_group_name")
        ]

    def __str__(self) -> str:
        return self.name
