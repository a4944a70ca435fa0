from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dashboard.admin import MirrorAdmin, RecordAdmin
from hits.models import (
    HIT,
    Assignment,
    Batch,
    Decision,
    GridPreference,
    HITType,
    RejectionReason,
    ResultsUpload,
)


@admin.register(HITType)
class HITTypeAdmin(MirrorAdmin):
    list_display = ["hit_type_id", "title", "reward", "account", "notification_active"]
    list_filter = ["account"]
    search_fields = ["hit_type_id", "title"]


@admin.register(Batch)
class BatchAdmin(MirrorAdmin):
    """Batches are read from the HITs' annotations by sync."""

    list_display = ["name", "source", "hit_type", "account", "first_seen_at"]
    list_filter = ["account", "source"]
    search_fields = ["name", "key"]
    list_select_related = ["hit_type", "account"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Removing one would detach its HITs, and sync does not rewrite unchanged HITs to mend it.
        return False


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


@admin.register(Decision)
class DecisionAdmin(RecordAdmin):
    """The ledger of approvals and rejections sent (or to be sent) to MTurk: a row changed or
    removed here could send a decision twice or hide one that was sent."""

    list_display = ["created_at", "action", "assignment", "state", "requested_by", "account"]
    list_filter = ["account", "action", "state"]
    search_fields = ["assignment__assignment_id", "mturk_request_id"]
    list_select_related = ["assignment", "requested_by", "account"]
    raw_id_fields = ["assignment", "job", "requested_by"]


@admin.register(ResultsUpload)
class ResultsUploadAdmin(RecordAdmin):
    """Decision files as uploaded; the job that carried one out points back at it."""

    list_display = ["created_at", "filename", "hit_type", "uploaded_by", "job", "account"]
    list_filter = ["account"]
    search_fields = ["filename"]
    list_select_related = ["hit_type", "uploaded_by", "job", "account"]
    # The file itself stays out of the page (it can be megabytes); its size says enough.
    exclude = ["content"]
    readonly_fields = ["size"]

    @admin.display(description="Size (bytes)")
    def size(self, obj: ResultsUpload) -> int:
        return len(obj.content or b"")


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    """Saved reasons are the lab's own wording: admins may edit or remove them."""

    list_display = ["text", "account", "created_by", "created_at"]
    list_filter = ["account"]
    search_fields = ["text"]
    raw_id_fields = ["created_by"]


@admin.register(GridPreference)
class GridPreferenceAdmin(admin.ModelAdmin):
    """A user's chosen answer columns for a study; deleting one resets that user's grid."""

    list_display = ["user", "hit_type"]
    list_select_related = ["user", "hit_type"]
    raw_id_fields = ["user", "hit_type"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
