"""Failed logins are throttled (django-axes): per username and per address, with a clear lockout
page, a lock a superuser can lift in the admin, and limits that are settings. There is no password
reset page (nothing to mail it with)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return settings


def _login(client: Client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_a_wrong_password_is_only_refused_while_under_the_limit(staff_user):
    client = Client()

    wrong = [_login(client, staff_user.username, "wrong") for _ in range(2)]
    right = _login(client, staff_user.username, TEST_PASSWORD)

    assert [r.status_code for r in wrong] == [200, 200]
    assert right.status_code == 302 and _logged_in(client)


def test_too_many_failures_lock_the_username_even_with_the_right_password(staff_user):
    client = Client()
    for _ in range(3):
        _login(client, staff_user.username, "wrong")

    locked = _login(client, staff_user.username, TEST_PASSWORD)
    # From another address too: the username's own counter is spent.
    elsewhere = _login(Client(), staff_user.username, TEST_PASSWORD, address="127.0.0.9")

    assert locked.status_code == 429 and elsewhere.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page and "3 failed attempts" in page
    assert "15 minutes" in page and "lab admin" in page
    assert not _logged_in(client)


def test_too_many_failures_from_one_address_lock_that_address(staff_user):
    client = Client()
    for n in range(3):
        _login(client, f"guess-{n}", "wrong", address="127.0.0.7")

    from_there = _login(client, staff_user.username, TEST_PASSWORD, address="127.0.0.7")
    from_elsewhere = _login(Client(), staff_user.username, TEST_PASSWORD, address="127.0.0.8")

    assert from_there.status_code == 429
    assert from_elsewhere.status_code == 302


def test_the_admin_login_is_throttled_too(admin_user):
    client = Client()
    url = reverse("admin:login")
    for _ in range(3):
        client.post(url, {"username": admin_user.username, "password": "wrong"})

    locked = client.post(url, {"username": admin_user.username, "password": TEST_PASSWORD})

    assert locked.status_code == 429


def test_a_superuser_lifts_a_lock_in_the_admin(staff_user):
    from axes.models import AccessAttempt

    for _ in range(3):
        _login(Client(), staff_user.username, "wrong", address="127.0.0.5")
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(superuser)
    changelist = admin.get(reverse("admin:axes_accessattempt_changelist"))
    attempts = list(AccessAttempt.objects.filter(username=staff_user.username))

    lifted = admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in attempts],
            "post": "yes",
        },
    )
    client = Client()
    after = _login(client, staff_user.username, TEST_PASSWORD, address="127.0.0.6")

    assert changelist.status_code == 200 and staff_user.username in changelist.content.decode()
    assert lifted.status_code == 302 and not AccessAttempt.objects.exists()
    assert after.status_code == 302 and _logged_in(client)


def test_password_reset_is_not_offered():
    client = Client()

    assert client.get("/accounts/password_reset/").status_code == 404
    assert client.post("/accounts/password_reset/", {"email": "x@example.org"}).status_code == 404
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
    assert b"reset" not in client.get(reverse("login")).content.lower()


def test_a_forged_forwarded_for_header_does_not_reset_the_address_count(staff_user):
    client = Client()
    for n in range(3):
        client.post(
            reverse("login"),
            {"username": f"guess-{n}", "password": "wrong"},
            REMOTE_ADDR="127.0.0.4",
            HTTP_X_FORWARDED_FOR=f"127.0.1.{n}",
        )

    locked = _login(client, staff_user.username, TEST_PASSWORD, address="127.0.0.4")

    assert locked.status_code == 429


def test_behind_the_proxy_the_address_it_appended_is_counted(settings, staff_user):
    settings.CLIENT_ADDRESS_FROM_X_FORWARDED_FOR = True
    proxy = "127.0.0.2"
    for n in range(3):
        Client().post(
            reverse("login"),
            {"username": f"guess-{n}", "password": "wrong"},
            REMOTE_ADDR=proxy,
            # A client-chosen first entry, then the address the proxy saw.
            HTTP_X_FORWARDED_FOR=f"127.0.1.{n}, 127.0.0.30",
        )

    same_client = Client().post(
        reverse("login"),
        {"username": staff_user.username, "password": TEST_PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="127.0.0.30",
    )
    other_client = Client().post(
        reverse("login"),
        {"username": staff_user.username, "password": TEST_PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="127.0.0.31",
    )

    assert same_client.status_code == 429 and other_client.status_code == 302
