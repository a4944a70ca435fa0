"""The roles: made by the data migration, back after a flush, topped up from the permission table
(dashboard.enums.ROLES) after every migrate, never stripped of what an admin granted."""

from __future__ import annotations

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from dashboard.enums import LAB_ADMIN_ACTIONS, RESEARCH_STAFF_ACTIONS, Action
from dashboard.roles import ensure_roles, sync_roles


def _codenames(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


@pytest.mark.django_db
def test_the_migrated_roles_hold_their_permissions():
    assert _codenames("Research staff") == {a.value for a in RESEARCH_STAFF_ACTIONS}
    assert _codenames("Lab admin") == {a.value for a in LAB_ADMIN_ACTIONS}


@pytest.mark.django_db(transaction=True)
def test_the_roles_come_back_after_a_flush():
    call_command("flush", interactive=False, verbosity=0)

    assert _codenames("Research staff") == {a.value for a in RESEARCH_STAFF_ACTIONS}
    assert _codenames("Lab admin") == {a.value for a in LAB_ADMIN_ACTIONS}


@pytest.mark.django_db
def test_an_existing_lab_admin_group_missing_a_permission_gets_it():
    admin = Group.objects.get(name="Lab admin")
    admin.permissions.remove(*admin.permissions.filter(codename=Action.MANAGE_USERS))

    sync_roles(global_apps)

    assert _codenames("Lab admin") == {a.value for a in LAB_ADMIN_ACTIONS}


@pytest.mark.django_db
def test_a_newly_defined_permission_reaches_the_existing_groups_at_the_next_migrate():
    # As if Action.EXPORT were new: no permission row yet, so neither group holds it.
    Permission.objects.filter(codename=Action.EXPORT).delete()
    staff_before = Group.objects.get(name="Research staff").pk

    call_command("migrate", verbosity=0)  # nothing to apply, but post_migrate runs

    assert Group.objects.get(name="Research staff").pk == staff_before
    assert Action.EXPORT.value in _codenames("Research staff")
    assert Action.EXPORT.value in _codenames("Lab admin")


@pytest.mark.django_db
def test_a_permission_an_admin_granted_by_hand_stays():
    staff = Group.objects.get(name="Research staff")
    staff.permissions.add(Permission.objects.get(codename=Action.PAY_BONUSES))
    staff.permissions.add(Permission.objects.get(codename="view_group"))

    sync_roles(global_apps)
    ensure_roles()

    assert _codenames("Research staff") == {a.value for a in RESEARCH_STAFF_ACTIONS} | {
        Action.PAY_BONUSES,
        "view_group",
    }


@pytest.mark.django_db
def test_a_missing_role_is_made_again():
    Group.objects.filter(name="Research staff").delete()

    ensure_roles()

    assert _codenames("Research staff") == {a.value for a in RESEARCH_STAFF_ACTIONS}


@pytest.mark.django_db
def test_the_data_migration_builds_the_roles_with_its_historical_models():
    Group.objects.all().delete()
    Permission.objects.filter(content_type__app_label="dashboard").delete()
    loader = MigrationLoader(connection)
    migration = loader.get_migration("dashboard", "0002_roles")
    state = loader.project_state(("dashboard", "0002_roles"), at_end=True)

    migration.operations[0].code(state.apps, connection.schema_editor(atomic=False))

    assert _codenames("Research staff") == {a.value for a in RESEARCH_STAFF_ACTIONS}
    assert _codenames("Lab admin") == {a.value for a in LAB_ADMIN_ACTIONS}
