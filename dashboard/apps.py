from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: roles use the auth models, which exist only once apps load.
        from dashboard.roles import ensure_roles

        # Roles come back after a flush (and are made if missing after any migrate).
        post_migrate.connect(ensure_roles, sender=self, dispatch_uid="dashboard.ensure_roles")
