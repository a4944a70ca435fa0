"""The AWS secret never reaches an error page or report: not the DEBUG page, not the report of a
failed command. Every function and view that holds it marks it sensitive, and the reports honour
those marks with DEBUG on as well (Django's own filter steps aside when DEBUG is on)."""

from __future__ import annotations

import sys

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from dashboard.forms import RequesterAccountForm

pytestmark = pytest.mark.django_db

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _account_data(**overrides: str) -> dict[str, str]:
    return {
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
        **overrides,
    }


def _explode(**kwargs: object) -> None:
    raise RuntimeError("the audit log is unavailable")


@pytest.fixture
def failing_audit(monkeypatch):
    """save_account fails after it has the secret in hand (its audit event cannot be written)."""
    monkeypatch.setattr("dashboard.services.record_audit_event", _explode)


def _debug_page(client: Client, url: str, data: dict[str, str]) -> str:
    response = client.post(url, data)
    assert response.status_code == 500
    return response.content.decode()


def test_the_debug_page_of_the_account_form_hides_the_secret(settings, admin_user, failing_audit):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)

    page = _debug_page(client, reverse("account-create"), _account_data())

    # The technical page, with the frames of the view and of save_account...
    assert "the audit log is unavailable" in page
    assert "save_account" in page and "secret_access_key" in page
    # ...and neither the POST field nor any local shows the secret.
    assert SECRET not in page


def test_the_debug_page_of_the_admin_form_hides_the_secret(settings, admin_user, failing_audit):
    settings.DEBUG = True
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    page = _debug_page(client, reverse("admin:dashboard_requesteraccount_add"), _account_data())

    assert "the audit log is unavailable" in page and "save_account" in page
    assert SECRET not in page


def test_a_failed_add_account_reports_no_secret(monkeypatch, failing_audit):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)

    with pytest.raises(RuntimeError) as caught:
        call_command("add_account", "cli-lab", "--environment", "sandbox")
    report = ExceptionReporter(None, caught.type, caught.value, caught.tb).get_traceback_html()

    assert "add_account" in report and "save_account" in report
    assert SECRET not in report


def _validate_account_form() -> bool:
    # The data is built here, not in the test, so the test's own frame holds no secret.
    return RequesterAccountForm(data=_account_data()).is_valid()


def test_the_account_form_reports_no_secret(monkeypatch):
    class Exploding:
        """Stands in for the Environment enum: reading it fails inside clean()."""

        @property
        def SANDBOX(self) -> str:
            raise RuntimeError("environment lookup failed")

    monkeypatch.setattr("dashboard.forms.Environment", Exploding())

    try:
        _validate_account_form()
    except RuntimeError:
        report = ExceptionReporter(None, *sys.exc_info()).get_traceback_html()
    else:
        pytest.fail("clean() did not fail")

    assert "environment lookup failed" in report and "cleaned" in report
    assert SECRET not in report
