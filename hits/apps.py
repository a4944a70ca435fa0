from __future__ import annotations

from django.apps import AppConfig


class HitsConfig(AppConfig):
    name = "hits"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Register this app's job kinds in the web process and in every worker.
        from hits import demo, review_jobs  # noqa: F401
