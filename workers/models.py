"""Workers seen by a requester account, their blocks and the bonuses paid to them."""

from __future__ import annotations

from django.db import models

from dashboard.models import RequesterAccount


class Worker(models.Model):
    """One row per MTurk worker id per account; the counts are denormalised by the sync services."""

    account = models.ForeignKey(RequesterAccount, on_delete=models.CASCADE, related_name="workers")
    worker_id = models.CharField(max_length=64)
    assignments_submitted = models.PositiveIntegerField(default=0)
    assignments_approved = models.PositiveIntegerField(default=0)
    assignments_rejected = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_submit_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["worker_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "worker_id"], name="uniq_worker_per_account")
        ]

    def __str__(self) -> str:
        return self.worker_id


class WorkerBlock(models.Model):
    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="worker_blocks"
    )
    worker_id = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["worker_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "worker_id"], name="uniq_block_per_account")
        ]

    def __str__(self) -> str:
        return f"block {self.worker_id}"


class BonusPayment(models.Model):
    """A bonus MTurk reports as paid (ListBonusPayments). MTurk gives bonuses no id, so rows are keyed
    by a digest of their fields (`mturk_key`)."""

    account = models.ForeignKey(
        RequesterAccount, on_delete=models.CASCADE, related_name="bonus_payments"
    )
    mturk_key = models.CharField(max_length=64)
    worker_id = models.CharField(max_length=64)
    assignment_id = models.CharField(max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField(blank=True)
    grant_time = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-grant_time", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "mturk_key"], name="uniq_bonus_per_account")
        ]
        indexes = [
            models.Index(fields=["account", "assignment_id"]),
            models.Index(fields=["account", "worker_id"]),
        ]

    def __str__(self) -> str:
        return f"${self.amount} to {self.worker_id}"
