"""Personas shared by every view test: a lab admin and a staff member of `account`, a staff member
of another account, and an anonymous visitor."""

from __future__ import annotations

import pytest
from django.test import Client

from dashboard.enums import LAB_ADMIN_GROUP, RESEARCH_STAFF_GROUP
from tests.factories import RequesterAccountFactory, UserFactory


@pytest.fixture
def admin_user(db):
    return UserFactory(username="alice-admin", role=LAB_ADMIN_GROUP)


@pytest.fixture
def staff_user(db):
    return UserFactory(username="bob-staff", role=RESEARCH_STAFF_GROUP)


@pytest.fixture
def other_staff_user(db):
    return UserFactory(username="carol-elsewhere", role=RESEARCH_STAFF_GROUP)


@pytest.fixture
def account(db, admin_user, staff_user):
    return RequesterAccountFactory(slug="lab", name="Vision Lab", members=[admin_user, staff_user])


@pytest.fixture
def other_account(db, other_staff_user):
    return RequesterAccountFactory(slug="other-lab", name="Other Lab", members=[other_staff_user])


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lab_admin_client(admin_user) -> Client:
    return _client_for(admin_user)


@pytest.fixture
def staff_client(staff_user) -> Client:
    return _client_for(staff_user)


@pytest.fixture
def other_staff_client(other_staff_user, other_account) -> Client:
    return _client_for(other_staff_user)


@pytest.fixture
def anonymous_client() -> Client:
    return Client()


@pytest.fixture
def personas(
    anonymous_client, staff_client, lab_admin_client, other_staff_client
) -> dict[str, Client]:
    return {
        "anonymous": anonymous_client,
        "staff": staff_client,
        "admin": lab_admin_client,
        "other_staff": other_staff_client,
    }
