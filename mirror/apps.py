from __future__ import annotations

from django.apps import AppConfig


class MirrorConfig(AppConfig):
    """Ingest: MTurk's state into our database (sync, SQS, the SNS webhook) and its health."""

    name = "mirror"
    verbose_name = "MTurk mirror"

    def ready(self) -> None:
        # Imported here, not at the top: these modules use models, which exist once apps load.
        from dashboard.enums import JobKind
        from dashboard.jobs import register_job_handler
        from mirror import jobs

        register_job_handler(JobKind.SYNC, jobs.sync_now)
        register_job_handler(JobKind.NOTIFICATIONS_CONFIGURE, jobs.configure_notifications)
        register_job_handler(JobKind.NOTIFICATIONS_TEST, jobs.test_notification)
