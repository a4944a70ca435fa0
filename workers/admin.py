from __future__ import annotations

from django.contrib import admin

from dashboard.admin import MirrorAdmin
from workers.models import BonusPayment, Worker, WorkerBlock


@admin.register(Worker)
class WorkerAdmin(MirrorAdmin):
    list_display = [
        "worker_id",
        "assignments_submitted",
        "assignments_approved",
        "assignments_rejected",
        "last_submit_time",
        "account",
    ]
    list_filter = ["account"]
    search_fields = ["worker_id"]


@admin.register(WorkerBlock)
class WorkerBlockAdmin(MirrorAdmin):
    list_display = ["worker_id", "reason", "account", "synced_at"]
    list_filter = ["account"]
    search_fields = ["worker_id"]


@admin.register(BonusPayment)
class BonusPaymentAdmin(MirrorAdmin):
    list_display = ["worker_id", "assignment_id", "amount", "grant_time", "account"]
    list_filter = ["account"]
    search_fields = ["worker_id", "assignment_id"]
