"""The people app in /admin/: the ledgers (bonuses, blocks, messages) read-only, since their rows
are what keeps each change sent once; the lab's own notes, tags, templates and groups editable."""

from __future__ import annotations

from django.contrib import admin

from dashboard.admin import RecordAdmin
from people.models import (
    BlockChange,
    Bonus,
    BonusRun,
    Message,
    MessageRecipient,
    MessageTemplate,
    StudyGroup,
    WorkerNote,
    WorkerTag,
)


@admin.register(Bonus)
class BonusAdmin(RecordAdmin):
    list_display = ["worker_id", "assignment_id", "amount", "state", "pay_again", "created_at"]
    list_filter = ["account", "state", "pay_again"]
    search_fields = ["worker_id", "assignment_id"]


@admin.register(BonusRun)
class BonusRunAdmin(RecordAdmin):
    list_display = ["filename", "account", "created_by", "created_at", "job"]
    list_filter = ["account"]
    exclude = ["content"]


@admin.register(BlockChange)
class BlockChangeAdmin(RecordAdmin):
    list_display = ["worker_id", "action", "state", "created_at"]
    list_filter = ["account", "action", "state"]
    search_fields = ["worker_id"]


@admin.register(Message)
class MessageAdmin(RecordAdmin):
    list_display = ["subject", "account", "state", "created_at"]
    list_filter = ["account", "state"]


@admin.register(MessageRecipient)
class MessageRecipientAdmin(RecordAdmin):
    list_display = ["worker_id", "message", "outcome"]
    list_filter = ["account", "outcome"]
    search_fields = ["worker_id"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "subject", "updated_at"]
    list_filter = ["account"]


@admin.register(StudyGroup)
class StudyGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "is_active", "qualification_type"]
    list_filter = ["account", "is_active"]
    filter_horizontal = ["hit_types"]


@admin.register(WorkerNote)
class WorkerNoteAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "account", "author", "created_at"]
    list_filter = ["account"]
    search_fields = ["worker_id", "text"]


@admin.register(WorkerTag)
class WorkerTagAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "tag", "account"]
    list_filter = ["account", "tag"]
    search_fields = ["worker_id", "tag"]
