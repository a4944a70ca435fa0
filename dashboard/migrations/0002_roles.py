"""Create the two roles from explicit permissions: Research staff and Lab admin."""

from __future__ import annotations

from django.db import migrations

# This calls the live sync_roles, not a frozen copy. Data migrations freeze code so that they keep
# meaning what they meant; here that is not wanted: the roles must hold what dashboard.enums.ROLES
# says on every database, new or old (post_migrate runs the same function after every migrate), and
# a frozen copy was a second list to keep in step. What makes it safe to call from a migration:
# sync_roles reaches models only through the historical `apps` it is given, never by import, and
# needs no field that a later migration adds. Keep it that way (see its docstring).
from dashboard.enums import ROLES
from dashboard.roles import sync_roles


def create_roles(apps, schema_editor):
    sync_roles(apps, schema_editor.connection.alias)


def remove_roles(apps, schema_editor):
    alias = schema_editor.connection.alias
    apps.get_model("auth", "Group").objects.using(alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
