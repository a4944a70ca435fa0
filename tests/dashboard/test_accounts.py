"""Requester accounts: forms, write-only secrets, members, the LIVE banner, the add_account command."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from dashboard.enums import Environment
from dashboard.models import AuditEvent, RequesterAccount
from tests.factories import RequesterAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _create_via_form(client: Client, **overrides: str):
    data = {
        "name": "Sandbox lab",
        "slug": "sandbox-lab",
        "environment": "sandbox",
        "endpoint_url": "",
        "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key": SECRET,
        "sqs_queue_url": "",
        "sns_topic_arn": "",
        "sns_trusted_certificate": "",
        "is_active": "on",
    }
    data.update(overrides)
    return client.post(reverse("account-create"), data)


def test_admin_adds_an_account_with_an_encrypted_secret(lab_admin_client, admin_user):
    response = _create_via_form(lab_admin_client)

    account = RequesterAccount.objects.get(slug="sandbox-lab")
    assert response.status_code == 302 and response["Location"] == account.get_absolute_url()
    assert account.get_secret_access_key() == SECRET
    assert SECRET not in account.aws_secret_access_key_encrypted
    assert account.members.filter(pk=admin_user.pk).exists()
    assert (
        account.effective_endpoint_url == "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
    )
    assert AuditEvent.objects.filter(account=account, action="account.create").count() == 1


def test_emulator_accounts_need_an_endpoint(lab_admin_client):
    response = _create_via_form(lab_admin_client, environment="emulator", aws_secret_access_key="")

    assert response.status_code == 200
    assert "needs the emulator" in response.content.decode()
    assert not RequesterAccount.objects.filter(slug="sandbox-lab").exists()


def test_sandbox_accounts_need_a_secret_and_https(lab_admin_client):
    no_secret = _create_via_form(lab_admin_client, aws_secret_access_key="")
    plain_http = _create_via_form(lab_admin_client, endpoint_url="http://example.org/")

    assert "need an AWS secret access key" in no_secret.content.decode()
    assert "must use https" in plain_http.content.decode()
    assert not RequesterAccount.objects.exists()


def test_bad_values_get_clear_errors(lab_admin_client):
    response = _create_via_form(
        lab_admin_client,
        aws_access_key_id="lower-case!",
        sns_topic_arn="not-an-arn",
        slug="Bad Slug",
    )

    body = response.content.decode()
    assert "16-128 upper-case letters" in body
    assert "Not an SNS topic ARN" in body
    assert "slug" in body.lower()
    assert not RequesterAccount.objects.exists()


def test_editing_with_a_blank_secret_keeps_the_stored_one(lab_admin_client, account):
    account.set_secret_access_key(SECRET)
    account.save()
    url = reverse("account-edit", kwargs={"slug": account.slug})

    response = lab_admin_client.post(
        url,
        {
            "name": "Renamed lab",
            "slug": account.slug,
            "environment": "emulator",
            "endpoint_url": "http://127.0.0.1:8765/",
            "aws_access_key_id": "AKIAEMULATOR00000000",
            "aws_secret_access_key": "",
            "is_active": "on",
        },
    )

    account.refresh_from_db()
    assert response.status_code == 302
    assert account.name == "Renamed lab"
    assert account.get_secret_access_key() == SECRET


def test_a_stored_secret_never_appears_in_pages_admin_or_logs(
    lab_admin_client, admin_user, account, caplog
):
    caplog.set_level(logging.DEBUG)
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    _create_via_form(lab_admin_client)
    created = RequesterAccount.objects.get(slug="sandbox-lab")
    pages = [
        reverse("account-overview", kwargs={"slug": "sandbox-lab"}),
        reverse("account-edit", kwargs={"slug": "sandbox-lab"}),
        reverse("account-members", kwargs={"slug": "sandbox-lab"}),
        reverse("audit-log", kwargs={"slug": "sandbox-lab"}),
        reverse("healthz"),
        reverse("admin:dashboard_requesteraccount_changelist"),
        reverse("admin:dashboard_requesteraccount_change", args=[created.pk]),
        reverse("admin:dashboard_auditevent_changelist"),
    ]
    # An invalid form re-rendered after a POST must not echo the secret back either.
    invalid = _create_via_form(lab_admin_client, slug="another", aws_access_key_id="bad")

    for url in pages:
        response = lab_admin_client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
        assert created.aws_secret_access_key_encrypted not in response.content.decode(), url
    assert SECRET not in invalid.content.decode()
    assert SECRET not in caplog.text
    assert SECRET not in repr(created) and SECRET not in str(created)


def test_members_are_added_and_removed_with_audit(lab_admin_client, account, other_staff_user):
    url = reverse("account-members", kwargs={"slug": account.slug})

    added = lab_admin_client.post(url, {"username": other_staff_user.username})
    assert added.status_code == 302 and account.members.filter(pk=other_staff_user.pk).exists()
    removed = lab_admin_client.post(url, {"user_id": other_staff_user.pk})
    assert (
        removed.status_code == 302 and not account.members.filter(pk=other_staff_user.pk).exists()
    )
    unknown = lab_admin_client.post(url, {"username": "nobody"})
    assert "No active user is called" in unknown.content.decode()
    actions = list(AuditEvent.objects.filter(account=account).values_list("action", flat=True))
    assert sorted(actions) == ["account.member_add", "account.member_remove"]


def test_live_accounts_show_a_banner_on_every_page(lab_admin_client, admin_user):
    live = RequesterAccountFactory(
        slug="live-lab", environment=Environment.LIVE, endpoint_url="", members=[admin_user]
    )
    live.set_secret_access_key(SECRET)
    live.save()

    for name in ["account-overview", "account-edit", "account-members", "audit-log", "job-list"]:
        body = lab_admin_client.get(reverse(name, kwargs={"slug": live.slug})).content.decode()
        assert 'class="live-banner"' in body, name
        assert "env-live" in body, name


def test_sandbox_pages_have_no_live_banner(lab_admin_client, account):
    body = lab_admin_client.get(
        reverse("account-overview", kwargs={"slug": account.slug})
    ).content.decode()

    assert "live-banner" not in body
    assert "env-emulator" in body


def test_switcher_lists_only_the_users_accounts(staff_client, account, other_account):
    body = staff_client.get(
        reverse("account-overview", kwargs={"slug": account.slug})
    ).content.decode()

    assert "Vision Lab" in body
    assert "Other Lab" not in body


def test_index_opens_an_account_or_explains_what_to_do(staff_client, account, other_staff_user, db):
    assert staff_client.get(reverse("index"))["Location"] == account.get_absolute_url()
    account.members.remove(*account.members.all())
    empty = staff_client.get(reverse("index"))
    assert empty.status_code == 200
    assert "Ask a lab admin" in empty.content.decode()


def test_login_page_and_logout(account, staff_user):
    client = Client()
    login_page = client.get(reverse("login"))
    logged_in = client.post(
        reverse("login"),
        {"username": staff_user.username, "password": "correct horse battery staple"},
    )
    overview = client.get(reverse("account-overview", kwargs={"slug": account.slug}))
    logged_out = client.post(reverse("logout"))

    assert login_page.status_code == 200 and b'name="password"' in login_page.content
    assert logged_in.status_code == 302
    assert overview.status_code == 200
    assert logged_out.status_code == 302
    assert client.get(reverse("account-overview", kwargs={"slug": account.slug})).status_code == 302


def test_pages_carry_a_content_security_policy_and_no_inline_script(staff_client, account):
    response = staff_client.get(reverse("account-overview", kwargs={"slug": account.slug}))

    assert "script-src 'self'" in response["Content-Security-Policy"]
    body = response.content.decode()
    assert "<script>" not in body  # every script has a src
    assert "htmx" in body and 'hx-headers=\'{"x-csrftoken"' in body


# --- add_account ---------------------------------------------------------------------------------


def test_add_account_reads_credentials_from_the_environment(monkeypatch, staff_user, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    out = io.StringIO()

    call_command(
        "add_account",
        "cli-lab",
        "--environment",
        "sandbox",
        "--member",
        staff_user.username,
        stdout=out,
    )

    account = RequesterAccount.objects.get(slug="cli-lab")
    assert account.get_secret_access_key() == SECRET
    assert account.members.filter(pk=staff_user.pk).exists()
    assert "Added account cli-lab" in out.getvalue()
    assert SECRET not in out.getvalue() and SECRET not in caplog.text


def test_add_account_without_credentials_and_no_terminal_fails_clearly(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    with pytest.raises(CommandError, match="Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        call_command("add_account", "cli-lab", "--environment", "sandbox")
    assert not RequesterAccount.objects.exists()


def test_add_account_validates_like_the_form(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

    with pytest.raises(CommandError, match="needs the emulator"):
        call_command("add_account", "emu", "--environment", "emulator")
    call_command(
        "add_account",
        "emu",
        "--environment",
        "emulator",
        "--endpoint-url",
        "http://127.0.0.1:8765/",
        stdout=io.StringIO(),
    )
    assert (
        RequesterAccount.objects.get(slug="emu").effective_endpoint_url == "http://127.0.0.1:8765/"
    )


def test_add_account_has_no_secret_arguments():
    from dashboard.management.commands.add_account import Command

    parser = Command().create_parser("manage.py", "add_account")
    options = {option for action in parser._actions for option in action.option_strings}

    assert not any("secret" in option or "key" in option for option in options)


def test_seed_demo_refuses_without_debug(settings, django_user_model):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not django_user_model.objects.filter(username="admin").exists()


def test_seed_demo_is_idempotent(settings, django_user_model):
    settings.DEBUG = True
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert django_user_model.objects.filter(username__in=["admin", "staff"]).count() == 2
    assert "password: demo-admin-password" in first.getvalue()
    assert "already there" in second.getvalue()
    admin = django_user_model.objects.get(username="admin")
    assert (
        admin.check_password("demo-admin-password")
        and admin.groups.filter(name="Lab admin").exists()
    )
