from __future__ import annotations

from django.contrib import admin

from dashboard.admin import MirrorAdmin
from hits.models import HIT, Assignment, HITType


@admin.register(HITType)
class HITTypeAdmin(MirrorAdmin):
    list_display = ["hit_type_id", "title", "reward", "account", "notification_active"]
    list_filter = ["account"]
    search_fields = ["hit_type_id", "title"]


@admin.register(HIT)
class HITAdmin(MirrorAdmin):
    list_display = [
        "hit_id",
        "title",
        "status",
        "max_assignments",
        "assignments_completed",
        "expires_at",
        "account",
    ]
    list_filter = ["account", "status", "question_kind"]
    search_fields = ["hit_id", "title", "annotation"]
    list_select_related = ["account"]


@admin.register(Assignment)
class AssignmentAdmin(MirrorAdmin):
    list_display = [
        "assignment_id",
        "worker",
        "status",
        "submit_time",
        "work_time_seconds",
        "account",
    ]
    list_filter = ["account", "status"]
    search_fields = ["assignment_id", "worker__worker_id", "hit__hit_id"]
    list_select_related = ["worker", "account"]
    raw_id_fields = ["hit", "hit_type", "worker"]
