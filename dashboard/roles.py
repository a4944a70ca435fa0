"""The two roles, Research staff and Lab admin, as groups of explicit permissions.

The data migration dashboard/migrations/0002_roles.py makes them when the database is first built.
`ensure_roles` runs after every `migrate` and every `flush` (Django's post_migrate signal) and puts
back a role that is missing, with its default permissions: a flushed database (as transactional
tests leave it) has the roles again, while a role a lab admin has since edited is left as it is.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.management import create_permissions

from dashboard.enums import (
    LAB_ADMIN_ACTIONS,
    LAB_ADMIN_GROUP,
    RESEARCH_STAFF_ACTIONS,
    RESEARCH_STAFF_GROUP,
)

ROLES = {RESEARCH_STAFF_GROUP: RESEARCH_STAFF_ACTIONS, LAB_ADMIN_GROUP: LAB_ADMIN_ACTIONS}


def ensure_roles(sender: AppConfig | None = None, using: str = "default", **kwargs: Any) -> None:
    """Create each missing role group with its permissions (a post_migrate receiver)."""
    from django.contrib.auth.models import Group, Permission

    # The permissions are made by another post_migrate receiver, perhaps after this one.
    create_permissions(apps.get_app_config("dashboard"), verbosity=0, using=using)
    for name, actions in ROLES.items():
        group, created = Group.objects.using(using).get_or_create(name=name)
        if created:
            group.permissions.set(
                Permission.objects.using(using).filter(
                    content_type__app_label="dashboard", codename__in=[a.value for a in actions]
                )
            )
