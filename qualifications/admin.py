from __future__ import annotations

from django.contrib import admin

from dashboard.admin import MirrorAdmin, RecordAdmin
from qualifications.models import (
    GrantUpload,
    Qualification,
    QualificationGrant,
    QualificationRequest,
    QualificationType,
    RequestDecision,
    RequiringHIT,
)


@admin.register(QualificationType)
class QualificationTypeAdmin(MirrorAdmin):
    list_display = [
        "name",
        "qualification_type_id",
        "status",
        "is_requestable",
        "auto_granted",
        "account",
    ]
    list_filter = ["account", "status"]
    search_fields = ["name", "qualification_type_id"]


@admin.register(Qualification)
class QualificationAdmin(MirrorAdmin):
    list_display = ["worker_id", "qualification_type", "integer_value", "status", "grant_time"]
    list_filter = ["account", "status"]
    search_fields = ["worker_id"]


@admin.register(QualificationRequest)
class QualificationRequestAdmin(MirrorAdmin):
    list_display = ["qualification_request_id", "worker_id", "qualification_type", "submit_time"]
    list_filter = ["account"]
    search_fields = ["worker_id", "qualification_request_id"]


@admin.register(QualificationGrant)
class QualificationGrantAdmin(RecordAdmin):
    list_display = ["worker_id", "action", "qualification_type", "integer_value", "state"]
    list_filter = ["account", "action", "state"]
    search_fields = ["worker_id"]


@admin.register(RequestDecision)
class RequestDecisionAdmin(RecordAdmin):
    list_display = ["qualification_request_id", "worker_id", "action", "state", "created_at"]
    list_filter = ["account", "action", "state"]
    search_fields = ["worker_id", "qualification_request_id"]


@admin.register(RequiringHIT)
class RequiringHITAdmin(MirrorAdmin):
    list_display = ["hit_id", "qualification_type", "title", "status"]
    list_filter = ["account"]
    search_fields = ["hit_id", "title"]


@admin.register(GrantUpload)
class GrantUploadAdmin(RecordAdmin):
    list_display = ["filename", "qualification_type", "action", "created_by", "created_at", "job"]
    list_filter = ["account"]
    exclude = ["content"]
