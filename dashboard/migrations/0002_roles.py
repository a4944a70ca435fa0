"""Create the two roles from explicit permissions: Research staff and Lab admin.

The codenames are spelled out here (not imported from dashboard.enums) so this migration keeps
meaning what it meant when it was written, whatever the code becomes later.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

RESEARCH_STAFF = ["view_account_data", "preview_questions", "review_assignments", "export_results"]
LAB_ADMIN = RESEARCH_STAFF + [
    "publish_hits",
    "pay_bonuses",
    "manage_workers",
    "manage_qualifications",
    "manage_accounts",
    "manage_users",
]
ROLES = {"Research staff": RESEARCH_STAFF, "Lab admin": LAB_ADMIN}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations run; make ours now so the groups can use them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(content_type__app_label="dashboard", codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for role {group_name}: {sorted(missing)}")
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
