"""Publishing in /admin/: the lab's templates and presets editable; batches, HIT requests and
changes read-only (their rows are what keeps each HIT created once)."""

from __future__ import annotations

from django.contrib import admin

from dashboard.admin import RecordAdmin
from publishing.models import (
    HITChange,
    HITRequest,
    PublishBatch,
    QuestionTemplate,
    RequirementPreset,
)


@admin.register(QuestionTemplate)
class QuestionTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "account", "updated_at"]
    list_filter = ["account", "kind"]


@admin.register(RequirementPreset)
class RequirementPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "updated_at"]
    list_filter = ["account"]


@admin.register(PublishBatch)
class PublishBatchAdmin(RecordAdmin):
    list_display = ["label", "account", "state", "hit_type_id", "created_at"]
    list_filter = ["account", "state"]
    exclude = ["inputs"]


@admin.register(HITRequest)
class HITRequestAdmin(RecordAdmin):
    list_display = ["batch", "row_number", "part", "hit_id", "state"]
    list_filter = ["state"]
    search_fields = ["hit_id"]


@admin.register(HITChange)
class HITChangeAdmin(RecordAdmin):
    list_display = ["hit_id", "action", "state", "created_at"]
    list_filter = ["account", "action", "state"]
    search_fields = ["hit_id"]
