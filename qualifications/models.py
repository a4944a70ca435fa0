"""Qualification types, the scores workers hold, and their requests, per requester account."""

from __future__ import annotations

from django.db import models

from dashboard.models import RequesterAccount


class QualificationType(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="qualification_types"
    )
    qualification_type_id = models.CharField(max_length=64)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    keywords = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, default="Active")
    is_requestable = models.BooleanField(default=False)
    auto_granted = models.BooleanField(default=False)
    auto_granted_value = models.IntegerField(null=True, blank=True)
    retry_delay_seconds = models.PositiveIntegerField(null=True, blank=True)
    test = models.TextField(blank=True)
    answer_key = models.TextField(blank=True)
    test_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at_mturk = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "qualification_type_id"], name="uniq_qualtype_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """A worker's score (or locale) for one of our qualification types."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="qualifications"
    )
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="scores"
    )
    worker_id = models.CharField(max_length=64)
    integer_value = models.IntegerField(null=True, blank=True)
    locale = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, default="Granted")
    grant_time = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["qualification_type", "worker_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["qualification_type", "worker_id"], name="uniq_score_per_worker_and_type"
            )
        ]
        indexes = [models.Index(fields=["account", "worker_id"])]

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.integer_value}"


class QualificationRequest(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="qualification_requests"
    )
    qualification_request_id = models.CharField(max_length=64)
    qualification_type = models.ForeignKey(
        QualificationType, on_delete=models.CASCADE, related_name="requests"
    )
    worker_id = models.CharField(max_length=64)
    test = models.TextField(blank=True)
    answer = models.TextField(blank=True)
    submit_time = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submit_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "qualification_request_id"], name="uniq_qualrequest_per_account"
            )
        ]

    def __str__(self) -> str:
        return self.qualification_request_id
