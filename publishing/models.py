"""What the lab publishes: question templates, requirement presets, batches published from a CSV
of inputs, and the changes made to live HITs. Each HIT created and each change made is an intent
(dashboard.models.Intent), so a retry or a crash never creates a HIT twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from dashboard.models import Intent, RequesterAccount
from publishing.enums import BatchState, HITChangeAction, TemplateKind

# MTurk's limit on a question document (CreateHIT's Question: 64 kilobytes).
MAX_QUESTION_BYTES = 65535


class QuestionTemplate(models.Model):
    """A question with `${variable}` placeholders, filled from each row of a batch's inputs."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    # HTML (HTMLQuestion), a URL (ExternalQuestion) or QuestionForm XML; empty for a layout.
    content = models.TextField(blank=True)
    frame_height = models.PositiveIntegerField(
        default=600, help_text="HTMLQuestion / ExternalQuestion FrameHeight in pixels (0: auto)."
    )
    layout_id = models.CharField("HITLayoutId", max_length=64, blank=True)
    layout_parameter_names = models.JSONField(default=list, blank=True)
    # A QuestionForm made with the question builder: the builder's questions (overview, then one
    # dict per question), so editing reopens the builder as it was left; `content` is the XML
    # built from them. Empty for a template written by hand (saving raw XML empties it).
    builder_spec = models.JSONField(default=dict, blank=True)
    # Variable → the value the preview shows (a variable without one shows as its placeholder).
    sample_values = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="uniq_template_name")
        ]

    def __str__(self) -> str:
        return self.name


class RequirementPreset(models.Model):
    """A saved set of QualificationRequirements (as MTurk takes them), per lab account."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    requirements = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="uniq_requirement_preset_name")
        ]

    def __str__(self) -> str:
        return self.name


class PublishBatch(models.Model):
    """One publish: the template as it was (a snapshot: editing the template later changes no
    published HIT), the HIT type settings and requirements, the uploaded inputs, and the estimate
    shown before confirming. `job` is set once, by the first confirmation."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(
        max_length=100, help_text="The batch label, written into each HIT's RequesterAnnotation."
    )
    template = models.ForeignKey(
        QuestionTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    template_kind = models.CharField(max_length=20, choices=TemplateKind.choices)
    template_content = models.TextField(blank=True)
    frame_height = models.PositiveIntegerField(default=600)
    layout_id = models.CharField(max_length=64, blank=True)
    # Title, description, keywords, reward, durations, lifetime, auto-approval delay, assignments
    # per item, annotation: what CreateHITType and CreateHITWithHITType are sent.
    hit_settings = models.JSONField(default=dict)
    requirements = models.JSONField(default=list, blank=True)
    review_policies = models.JSONField(default=dict, blank=True)
    notification = models.JSONField(default=dict, blank=True)
    micro_batching = models.BooleanField(default=False)
    inputs_filename = models.CharField(max_length=255, blank=True)
    inputs = models.BinaryField(blank=True)
    estimate = models.JSONField(default=dict, blank=True)
    hit_type_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=12, choices=BatchState.choices, default=BatchState.DRAFT)
    job = models.OneToOneField(
        "dashboard.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "publish batches"

    def __str__(self) -> str:
        return self.label


class HITRequest(Intent):
    """One HIT to create (CreateHITWithHITType) with its row's inputs. Its UniqueRequestToken
    comes from the row id, so a retry within MTurk's 24 hours is resolved to the HIT the first
    attempt created. A micro-batched item is several rows (`part` 0, 1, ...) of at most 9
    assignments each."""

    batch = models.ForeignKey(PublishBatch, on_delete=models.CASCADE, related_name="hit_requests")
    row_number = models.PositiveIntegerField(
        help_text="The inputs file's line (2 is the first row)."
    )
    part = models.PositiveSmallIntegerField(default=0)
    inputs = models.JSONField(default=dict)
    max_assignments = models.PositiveSmallIntegerField()
    hit_id = models.CharField(max_length=64, blank=True)

    execute_task = "publishing.create_hit"
    token_kind = "hit"

    class Meta:
        ordering = ["batch", "row_number", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "row_number", "part"], name="one_hit_request_per_row_part"
            )
        ]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self) -> str:
        return f"row {self.row_number}.{self.part} of {self.batch_id} [{self.state}]"

    def audit_action(self) -> str:
        return "hit.create"

    def audit_targets(self) -> dict[str, str]:
        targets = {"batch": self.batch.label}
        if self.hit_id:
            targets["hit"] = self.hit_id
        return targets

    def audit_parameters(self) -> dict[str, Any]:
        return {"row": self.row_number, "part": self.part, "max_assignments": self.max_assignments}


class HITChange(Intent):
    """A change to a live HIT (add assignments, expiry, delete, change type, review status)."""

    hit_id = models.CharField(max_length=64)
    action = models.CharField(max_length=20, choices=HITChangeAction.choices)
    parameters = models.JSONField(default=dict, blank=True)

    execute_task = "publishing.change_hit"
    # CreateAdditionalAssignmentsForHIT takes a UniqueRequestToken.
    token_kind = "extend"

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "hit_id"],
                condition=Q(state__in=["pending", "sending"]),
                name="one_open_change_per_hit",
            )
        ]
        indexes = [models.Index(fields=["job", "state"])]

    def __str__(self) -> str:
        return f"{self.action} {self.hit_id} [{self.state}]"

    def audit_action(self) -> str:
        return f"hit.{self.action}"

    def audit_targets(self) -> dict[str, str]:
        return {"hit": self.hit_id}

    def audit_parameters(self) -> dict[str, Any]:
        return dict(self.parameters)
