from __future__ import annotations

from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The top layer: pages and commands that compose every app (the overview, the demo study)."""

    name = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        # Imported here, not at the top: these modules use models, which exist once apps load.
        from console import demo
        from dashboard.enums import JobKind
        from dashboard.jobs import register_job_handler

        register_job_handler(JobKind.DEMO_PUBLISH, demo.publish_demo_study)
