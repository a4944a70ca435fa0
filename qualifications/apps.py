from __future__ import annotations

from django.apps import AppConfig


class QualificationsConfig(AppConfig):
    name = "qualifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: these modules use models, which exist once apps load.
        from dashboard.enums import JobKind
        from dashboard.jobs import register_job_handler
        from qualifications import jobs

        register_job_handler(JobKind.QUALIFICATION_GRANT, jobs.carry_out_grants)
        register_job_handler(JobKind.QUALIFICATION_REQUESTS, jobs.carry_out_request_decisions)
