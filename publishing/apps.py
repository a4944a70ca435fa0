from __future__ import annotations

from django.apps import AppConfig


class PublishingConfig(AppConfig):
    """Publishing from the dashboard: question templates, HIT type settings and requirement
    presets, batches published from a CSV of inputs (each HIT an intent), and managing live HITs.
    Above `people` (requirements name the lab's exclusion and study groups) and `hits` (it mirrors
    what it creates there)."""

    name = "publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: these modules use models, which exist once apps load.
        from dashboard.enums import JobKind
        from dashboard.jobs import register_job_handler
        from publishing import manage_jobs, publish_jobs

        register_job_handler(JobKind.PUBLISH_BATCH, publish_jobs.carry_out_publish)
        register_job_handler(JobKind.HIT_CHANGE, manage_jobs.carry_out_hit_changes)
