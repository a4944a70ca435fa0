from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from dashboard import services
from dashboard.forms import RequesterAccountForm
from dashboard.models import (
    AuditEvent,
    Confirmation,
    Job,
    MTurkCallStats,
    NotificationEvent,
    RequesterAccount,
    SyncState,
)


class MirrorAdmin(admin.ModelAdmin):
    """Mirror rows are MTurk's truth, written by sync only: the admin shows them read-only. The
    apps' admins of mirrored models extend this."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecordAdmin(MirrorAdmin):
    """Records of what the dashboard did or was asked to do (decisions, uploads): read-only, and
    never removed here either, since the rows are what keeps each change sent to MTurk once."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RequesterAccount)
class RequesterAccountAdmin(admin.ModelAdmin):
    form = RequesterAccountForm
    list_display = ["name", "slug", "environment", "is_active", "last_synced_at"]
    list_filter = ["environment", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    readonly_fields = ["secret_status", "last_synced_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "environment", "endpoint_url", "is_active"]}),
        (
            "Credentials",
            {"fields": ["aws_access_key_id", "aws_secret_access_key", "secret_status"]},
        ),
        (
            "Notifications",
            {"fields": ["sqs_queue_url", "sns_topic_arn", "sns_trusted_certificate"]},
        ),
        ("Members", {"fields": ["members"]}),
        ("History", {"fields": ["last_synced_at", "created_at", "updated_at"]}),
    ]

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if isinstance(db_field, models.URLField):
            kwargs.setdefault("assume_scheme", "https")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.display(description="Stored secret")
    def secret_status(self, obj: RequesterAccount) -> str:
        return (
            "A secret is stored (write-only)." if obj.has_secret_access_key else "No secret stored."
        )

    # The secret is a POST field and a local of the form and services below: hide them all.
    @method_decorator(sensitive_post_parameters("aws_secret_access_key"))
    @method_decorator(sensitive_variables())
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().changeform_view(request, *args, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: RequesterAccount, form: Any, change: bool
    ) -> None:
        services.save_account(
            account=obj,
            secret_access_key=form.cleaned_data.get("aws_secret_access_key"),
            saved_by=request.user,
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only, here as everywhere."""

    list_display = ["created_at", "actor_name", "account", "action", "outcome", "mturk_request_id"]
    list_filter = ["outcome", "action", "account"]
    search_fields = ["action", "actor_name", "mturk_request_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "title", "state", "done", "failed", "total"]
    list_filter = ["state", "kind", "account"]
    readonly_fields = [field.name for field in Job._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "last_reviewable_sync_at",
        "last_full_sync_at",
        "available_balance",
        "webhook_rejections",
    ]
    readonly_fields = [field.name for field in SyncState._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(NotificationEvent)
class NotificationEventAdmin(admin.ModelAdmin):
    list_display = [
        "event_doc_id",
        "account",
        "source",
        "event_types",
        "received_at",
        "applied_at",
        "attempts",
    ]
    list_filter = ["account", "source"]
    search_fields = ["event_doc_id"]
    readonly_fields = [field.name for field in NotificationEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(MTurkCallStats)
class MTurkCallStatsAdmin(admin.ModelAdmin):
    list_display = [
        "window_start",
        "account",
        "operation",
        "calls",
        "errors",
        "retries",
        "total_ms",
    ]
    list_filter = ["account", "operation"]
    readonly_fields = [field.name for field in MTurkCallStats._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Confirmation)
class ConfirmationAdmin(admin.ModelAdmin):
    """Read-only: who was shown which confirmation page, and whether they confirmed. Only digests
    are stored, so nothing here can be used to confirm anything."""

    list_display = ["created_at", "account", "user", "purpose", "used_at"]
    list_filter = ["purpose", "account"]
    readonly_fields = [field.name for field in Confirmation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
