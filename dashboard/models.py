from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from dashboard.crypto import decrypt_secret, encrypt_secret
from dashboard.enums import (
    DEFAULT_ENDPOINTS,
    Action,
    AuditOutcome,
    Environment,
    EventSource,
    IntentState,
    JobState,
)
from mturk.fetch import url_problem
from mturk.sns import canonical_certificate_pem
from mturk.tokens import request_token

# --- Requester accounts --------------------------------------------------------------------------


class RequesterAccountQuerySet(models.QuerySet["RequesterAccount"]):
    def visible_to(self, user: Any) -> RequesterAccountQuerySet:
        """Accounts the user may open: superusers see all, everyone else only those they belong to."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(members=user)

    def active(self) -> RequesterAccountQuerySet:
        return self.filter(is_active=True)


class RequesterAccount(models.Model):
    """One MTurk requester account (its credentials, endpoint and notification wiring).

    The AWS secret is stored encrypted with CREDENTIALS_KEY and is write-only: no form, page, admin
    view or log line ever shows it. Use `set_secret_access_key` / `get_secret_access_key`.
    """

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    environment = models.CharField(
        max_length=10, choices=Environment.choices, default=Environment.SANDBOX
    )
    endpoint_url = models.URLField(
        blank=True,
        help_text="Leave blank for the standard MTurk endpoint of the environment. Required for the emulator.",
    )
    aws_access_key_id = models.CharField(
        "AWS access key id",
        max_length=128,
        blank=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9]{16,128}$",
                "An AWS access key id is 16-128 upper-case letters and digits.",
            )
        ],
    )
    aws_secret_access_key_encrypted = models.TextField(blank=True, editable=False)
    sqs_queue_url = models.URLField("SQS queue URL", blank=True, max_length=500)
    sns_topic_arn = models.CharField(
        "SNS topic ARN",
        max_length=300,
        blank=True,
        validators=[
            RegexValidator(
                r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$", "Not an SNS topic ARN."
            )
        ],
    )
    sns_trusted_certificate = models.TextField(
        "trusted SNS signing certificate",
        blank=True,
        help_text="Emulator accounts only: the PEM certificate whose signatures the webhook accepts.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="requester_accounts", blank=True
    )
    is_active = models.BooleanField(default=True, help_text="Inactive accounts are not synced.")
    rate_limit_per_second = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(1000)],
        help_text="MTurk calls per second across all workers; blank for the MTURK_RATE_LIMIT_PER_SECOND setting.",
    )
    bonus_run_cap = models.DecimalField(
        "spending cap per bonus run",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The most one bonus run (a file or a selection) may cost, MTurk's fee included, in US dollars; blank for no cap.",
    )
    budget_cap = models.DecimalField(
        "budget cap per publish",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The most one publish may cost (rewards and MTurk's fees, every assignment), in US dollars; blank for no cap.",
    )
    last_synced_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RequesterAccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [(action.value, action.label) for action in Action]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_environment_display()})"

    def get_absolute_url(self) -> str:
        return reverse("account-overview", kwargs={"slug": self.slug})

    def clean(self) -> None:
        if self.environment == Environment.EMULATOR and not self.endpoint_url:
            raise ValidationError(
                {
                    "endpoint_url": "An emulator account needs the emulator's URL, e.g. http://127.0.0.1:8765/."
                }
            )
        if self.environment != Environment.EMULATOR and self.sns_trusted_certificate:
            raise ValidationError(
                {
                    "sns_trusted_certificate": "Only emulator accounts use a trusted certificate; AWS accounts trust SNS's own."
                }
            )
        if self.environment != Environment.EMULATOR and self.endpoint_url.startswith("http://"):
            raise ValidationError({"endpoint_url": "Sandbox and live endpoints must use https."})
        # The server appends paths to the endpoint and fetches them ("Wire emulator"): a query,
        # fragment or userinfo would let the URL decide what is fetched.
        problem = url_problem(self.endpoint_url, allow_query=False) if self.endpoint_url else None
        if problem:
            raise ValidationError({"endpoint_url": f"This URL cannot be an endpoint: {problem}."})
        if self.sns_trusted_certificate.strip():
            try:
                self.sns_trusted_certificate = canonical_certificate_pem(
                    self.sns_trusted_certificate
                )
            except ValueError as exc:
                raise ValidationError(
                    {"sns_trusted_certificate": f"Paste one PEM certificate: {exc}."}
                ) from None

    @property
    def is_live(self) -> bool:
        return self.environment == Environment.LIVE

    @property
    def effective_endpoint_url(self) -> str:
        return self.endpoint_url or DEFAULT_ENDPOINTS.get(Environment(self.environment), "")

    @property
    def has_secret_access_key(self) -> bool:
        return bool(self.aws_secret_access_key_encrypted)

    @sensitive_variables()
    def set_secret_access_key(self, secret: str) -> None:
        self.aws_secret_access_key_encrypted = encrypt_secret(secret) if secret else ""

    @sensitive_variables()
    def get_secret_access_key(self) -> str:
        if not self.aws_secret_access_key_encrypted:
            return ""
        return decrypt_secret(self.aws_secret_access_key_encrypted)


# --- Audit log -----------------------------------------------------------------------------------


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    # bulk_update would bypass save(); refuse it too.
    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events are append-only: they cannot be updated.")


class AuditEvent(models.Model):
    """Who did what to which MTurk object, when, and how it ended. Written by
    `dashboard.services.record_audit_event` only; never updated or deleted."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    # PROTECT: a user or account with an audit trail is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="The username at the time, or the system process."
    )
    account = models.ForeignKey(
        RequesterAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    action = models.CharField(max_length=80, db_index=True)
    target_ids = models.JSONField(
        default=dict, blank=True, help_text="MTurk and local ids the action touched."
    )
    parameters = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    error = models.TextField(blank=True)
    mturk_request_id = models.CharField("MTurk request id", max_length=100, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name or 'system'} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")


# --- Jobs ----------------------------------------------------------------------------------------


class Job(models.Model):
    """A long operation carried out by a Celery worker, with progress the UI polls.

    Created by `dashboard.jobs.start_job`, claimed with a conditional UPDATE so one worker runs
    it at a time, and handed out again by the janitor if its worker dies (handlers are resumable).
    """

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=80)
    title = models.CharField(max_length=200)
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=10, choices=JobState.choices, default=JobState.PENDING, db_index=True
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.title} [{self.state}]"

    def get_absolute_url(self) -> str:
        return reverse("job-detail", kwargs={"slug": self.account.slug, "pk": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.state in JobState.finished()

    @property
    def percent(self) -> int:
        if self.total == 0:
            return 100 if self.is_finished else 0
        return min(100, round(100 * (self.done + self.failed) / self.total))


# --- Sync health ---------------------------------------------------------------------------------


class SyncState(models.Model):
    """Per account: when each kind of sync last succeeded or failed, and the balance it read."""

    account = models.OneToOneField(
        RequesterAccount, on_delete=models.CASCADE, related_name="sync_state"
    )
    last_reviewable_sync_at = models.DateTimeField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    last_active_sync_at = models.DateTimeField(null=True, blank=True)
    last_balance_sync_at = models.DateTimeField(null=True, blank=True)
    last_qualifications_sync_at = models.DateTimeField(null=True, blank=True)
    last_blocks_sync_at = models.DateTimeField(null=True, blank=True)
    last_bonuses_sync_at = models.DateTimeField(null=True, blank=True)
    available_balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # A lease: the sync that holds it until `lock_expires_at` is the only one running for the account.
    lock_token = models.CharField(max_length=64, blank=True)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    webhook_rejections = models.PositiveIntegerField(default=0)
    last_webhook_rejection = models.CharField(max_length=300, blank=True)
    last_webhook_rejection_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sync state of {self.account.slug}"


class MTurkCallStats(models.Model):
    """Calls to MTurk, summed per account, operation and flush window (written in batches by the
    gateway's call recorder, so a sync does not pay one INSERT per API call)."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="call_stats"
    )
    window_start = models.DateTimeField(db_index=True)
    operation = models.CharField(max_length=60)
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    total_ms = models.FloatField(default=0)
    last_request_id = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "MTurk call statistics"
        verbose_name_plural = "MTurk call statistics"
        indexes = [models.Index(fields=["account", "window_start"])]

    def __str__(self) -> str:
        return f"{self.operation} ×{self.calls}"


class NotificationEvent(models.Model):
    """One MTurk event document as received (SQS or SNS), deduplicated on EventDocId and, for SNS,
    on MessageId."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="notification_events"
    )
    event_doc_id = models.CharField(max_length=128)
    # SNS's MessageId (blank for SQS): SNS retries reuse it, so it is a second dedupe key.
    sns_message_id = models.CharField("SNS MessageId", max_length=100, blank=True, default="")
    source = models.CharField(max_length=4, choices=EventSource.choices)
    document = models.TextField(help_text="The event document exactly as received.")
    event_types = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Set while one applier works on the event (mirror.events.apply_pending_events), so appliers
    # running at once never take the same event; a claim older than claimed_until is abandoned
    # (its process died) and the event is taken again.
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "event_doc_id"], name="uniq_event_doc_per_account"
            ),
            models.UniqueConstraint(
                fields=["account", "sns_message_id"],
                condition=~models.Q(sns_message_id=""),
                name="uniq_sns_message_per_account",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "applied_at"]),
            models.Index(
                fields=["claim_token"],
                condition=~models.Q(claim_token=""),
                name="notification_event_claims",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_doc_id} ({self.source})"


# --- Intents -------------------------------------------------------------------------------------


class Intent(models.Model):
    """A change we mean to make at MTurk (approve, reject, bonus, block, grant, create a HIT...),
    recorded before it is sent. The shared functions in dashboard.intents carry it out: a worker
    claims the row with a conditional UPDATE (pending -> sending), makes one gateway call with a
    token derived from the row id, and records the outcome (done, already done, failed) with an
    audit event. A crash leaves a `sending` row that a later claim finishes without doing anything
    twice. Each feature subclasses this and says what its audit event looks like."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="%(class)ss"
    )
    state = models.CharField(
        max_length=10, choices=IntentState.choices, default=IntentState.PENDING, db_index=True
    )
    job = models.ForeignKey(
        "dashboard.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="%(class)ss",
        help_text="The bulk job that carries this out; empty for a single action sent on its own.",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    mturk_request_id = models.CharField(max_length=100, blank=True)

    # The Celery task (by name) that carries out one intent of this kind: `intent_id=<pk>`.
    execute_task: ClassVar[str] = ""
    # The kind named in the intent's UniqueRequestToken, e.g. "bonus" -> "bonus-123".
    token_kind: ClassVar[str] = ""

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.state in IntentState.open()

    @property
    def unique_request_token(self) -> str:
        """The UniqueRequestToken for this row's call: the same on every retry of the same row."""
        if not self.token_kind or self.pk is None:
            raise ValueError("Only a saved intent of a kind with a token_kind has a token.")
        return request_token(self.token_kind, self.pk)

    def audit_action(self) -> str:
        """The audit log's action for this intent, e.g. "assignment.approve"."""
        raise NotImplementedError

    def audit_targets(self) -> dict[str, str]:
        """The MTurk ids the audit event names (assignment, HIT, worker...)."""
        return {}

    def audit_parameters(self) -> dict[str, Any]:
        """What was asked, for the audit event (amounts, reasons, feedback...)."""
        return {}


# --- Confirmations -------------------------------------------------------------------------------


class Confirmation(models.Model):
    """A one-time token issued by a confirmation page (dashboard.confirmations): its form may carry
    the action out once, in the same session, for the same user, account and exactly what the
    page showed. Only digests are stored: the token itself lives in the page that was rendered."""

    token_digest = models.CharField(max_length=64, unique=True)
    session_digest = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=80)
    # A digest of what the page showed and the action will do (the rows, the decision, ...).
    binding_digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} for {self.user_id} ({'used' if self.used_at else 'open'})"
