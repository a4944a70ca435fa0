"""One-time confirmation tokens (dashboard.confirmations): spent once, and only by the session,
user and account they were issued to, for the same purpose and binding, before they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from dashboard import confirmations
from dashboard.models import Confirmation

pytestmark = pytest.mark.django_db

BINDING = {"rows": ["A1", "A2"], "action": "approve"}


def _request(user, session: SessionStore | None = None):
    request = RequestFactory().post("/")
    request.user = user
    request.session = session or SessionStore()
    return request


def _consume(request, token: str, *, account, purpose="tests.confirm", binding=BINDING):
    return confirmations.consume(
        request, token=token, account=account, purpose=purpose, binding=binding
    )


@pytest.fixture
def issued(account, staff_user):
    request = _request(staff_user)
    token = confirmations.issue(request, account=account, purpose="tests.confirm", binding=BINDING)
    return request, token


def test_a_token_is_spent_once(issued, account):
    request, token = issued

    assert _consume(request, token, account=account) is True
    assert _consume(request, token, account=account) is False
    assert Confirmation.objects.get().used_at is not None


def test_only_digests_are_stored(issued, account):
    request, token = issued
    row = Confirmation.objects.get()

    assert token not in {row.token_digest, row.session_digest, row.binding_digest}
    assert request.session.session_key not in {row.token_digest, row.session_digest}


@pytest.mark.parametrize(
    "change",
    ["other session", "other user", "other account", "other purpose", "other binding", "empty"],
)
def test_a_token_is_refused_anywhere_else(
    issued, account, other_account, admin_user, staff_user, change
):
    request, token = issued
    arguments = {"account": account}
    if change == "other session":
        request = _request(staff_user)
    elif change == "other user":
        request = _request(admin_user, request.session)
    elif change == "other account":
        arguments["account"] = other_account
    elif change == "other purpose":
        arguments["purpose"] = "tests.other"
    elif change == "other binding":
        arguments["binding"] = {**BINDING, "rows": ["A1", "A2", "A3"]}
    elif change == "empty":
        token = ""

    assert _consume(request, token, **arguments) is False
    assert Confirmation.objects.get().used_at is None
    # Refusing it elsewhere does not spend it: the page it was issued for still works.
    assert _consume(issued[0], issued[1], account=account) is True


def test_an_old_token_is_refused_and_old_ones_are_cleared(issued, account):
    request, token = issued
    Confirmation.objects.update(
        created_at=Confirmation.objects.get().created_at
        - confirmations.MAX_AGE
        - timedelta(seconds=1)
    )

    assert _consume(request, token, account=account) is False
    confirmations.issue(request, account=account, purpose="tests.confirm", binding=BINDING)
    assert Confirmation.objects.count() == 1  # the expired one went when the next was issued


def test_a_binding_is_the_same_whatever_the_order_of_its_keys(issued, account):
    request, token = issued

    assert _consume(request, token, account=account, binding=dict(reversed(BINDING.items())))
