"""The roles: made by the data migration, back after a flush, never reset once edited."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from dashboard.enums import LAB_ADMIN_ACTIONS, RESEARCH_STAFF_ACTIONS
from dashboard.roles import ensure_roles


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
def test_a_role_an_admin_edited_is_left_as_it_is():
    staff = Group.objects.get(name="Research staff")
    staff.permissions.remove(*staff.permissions.filter(codename="export_results"))

    ensure_roles()

    assert "export_results" not in _codenames("Research staff")
