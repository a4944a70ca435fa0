"""The two roles, Research staff and Lab admin, as groups of explicit permissions.

`dashboard.enums.ROLES` is the one table of what each role holds; `sync_roles` makes the database
agree with it. The data migration dashboard/migrations/0002_roles.py calls it when the database is
first built, and `ensure_roles` calls it after every `migrate` and every `flush` (Django's
post_migrate signal). So a flushed database (as transactional tests leave it) has the roles again,
and a permission added to the table reaches the existing groups at the next `migrate`. Permissions
are only ever added: one an admin granted a group by hand stays. (A permission of the table that an
admin took away from a role's group comes back at the next `migrate`: the table is the floor.)
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS

from dashboard.enums import ROLES, Action

# Every Action is a permission of RequesterAccount (its Meta.permissions lists them).
PERMISSION_APP_LABEL, PERMISSION_MODEL = "dashboard", "requesteraccount"


def sync_roles(apps: Apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create each missing role group and permission, and add to each group the permissions of
    `ROLES` it lacks; never remove a permission from a group.

    The data migration calls this with its historical registry, so it reaches models only through
    `apps.get_model`, never by importing them.
    """
    content_type_model = apps.get_model("contenttypes", "ContentType")
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    # Django makes content types and permissions after all migrations have run (and in an order
    # that may put them after this): make ours now, the same rows it would make.
    content_type, _ = content_type_model.objects.using(using).get_or_create(
        app_label=PERMISSION_APP_LABEL, model=PERMISSION_MODEL
    )
    permissions = {
        action: permission_model.objects.using(using).get_or_create(
            content_type=content_type, codename=action.value, defaults={"name": action.label}
        )[0]
        for action in Action
    }
    for name, actions in ROLES.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.add(*(permissions[action] for action in actions))


def ensure_roles(
    sender: AppConfig | None = None,
    using: str = DEFAULT_DB_ALIAS,
    apps: Apps = global_apps,
    **kwargs: Any,
) -> None:
    """`sync_roles` as a post_migrate receiver (migrate passes its registry; flush passes none)."""
    try:
        for model in ("contenttypes.ContentType", "auth.Group", "auth.Permission"):
            apps.get_model(model)
    except LookupError:
        return  # auth or contenttypes migrated away (e.g. `migrate auth zero`): nothing to hold roles
    sync_roles(apps, using)
