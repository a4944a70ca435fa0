from __future__ import annotations

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """Publishing from the dashboard: question templates, HIT type settings and requirement
    presets, batches published from a CSV of inputs (each HIT an intent), and managing live HITs.
    Above `people` (requirements name the lab's exclusion and study groups) and `hits` (it mirrors
    what it creates there)."""

    name = "publishing"
    default_auto_field = "django.db.models.BigAutoField"
