"""Forms of the qualification pages: a type (create, edit), a type's worker filters, one worker's
score, a file of grants and the confirmations. MTurk's constraints are checked here, so what MTurk
would refuse is refused with a message before anything is sent."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.models import RequesterAccount
from qualifications import services
from qualifications.enums import GrantAction
from qualifications.models import QualificationType

STATUS_CHOICES = [(services.ACTIVE, "Active"), (services.INACTIVE, "Inactive")]


def _value_field(**kwargs: Any) -> forms.IntegerField:
    return forms.IntegerField(min_value=services.VALUE_MIN, max_value=services.VALUE_MAX, **kwargs)


class QualificationTypeForm(forms.Form):
    """CreateQualificationType's fields; on edit, the name and keywords are MTurk's to keep
    (UpdateQualificationType does not change them), so they are shown but not editable."""

    name = forms.CharField(max_length=services.NAME_MAX)
    description = forms.CharField(
        max_length=services.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Workers read it when they look at the type.",
    )
    keywords = forms.CharField(
        max_length=services.KEYWORDS_MAX,
        required=False,
        help_text="Comma-separated; they help workers find the type.",
    )
    status = forms.ChoiceField(choices=STATUS_CHOICES, initial=services.ACTIVE)
    retry_delay_seconds = forms.IntegerField(
        min_value=0,
        required=False,
        label="Retry delay (seconds)",
        help_text="How long a worker waits before requesting it again. Empty: a worker may "
        "request it only once. Once set, MTurk cannot turn retries off again.",
    )
    auto_granted = forms.BooleanField(
        required=False, label="Grant automatically to any worker who requests it"
    )
    auto_granted_value = _value_field(
        required=False, label="Value granted automatically", help_text="MTurk's default is 1."
    )

    def __init__(
        self,
        *args: Any,
        account: RequesterAccount,
        instance: QualificationType | None = None,
        **kwargs: Any,
    ) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": instance.name,
                    "description": instance.description,
                    "keywords": instance.keywords,
                    "status": instance.status,
                    "retry_delay_seconds": instance.retry_delay_seconds,
                    "auto_granted": instance.auto_granted,
                    "auto_granted_value": instance.auto_granted_value,
                },
            )
        super().__init__(*args, **kwargs)
        self.account = account
        self.instance = instance
        if instance is not None:
            for name in ("name", "keywords"):
                self.fields[name].disabled = True
                self.fields[name].help_text = "MTurk does not change it once the type exists."

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the type a name.")
        exclude = self.instance.pk if self.instance is not None else None
        if services.name_taken(self.account, name, exclude_pk=exclude):
            raise forms.ValidationError(
                "This account already has a qualification type with this name; MTurk keeps "
                "names unique per requester."
            )
        return name

    def clean_description(self) -> str:
        description: str = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError("MTurk requires a description.")
        return description

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_test = self.instance is not None and bool(self.instance.test)
        if data.get("auto_granted") and has_test:
            self.add_error(
                "auto_granted",
                "This type has a test: MTurk does not let a type with a test be granted "
                "automatically. Remove the test first.",
            )
        if data.get("auto_granted_value") is not None and not data.get("auto_granted"):
            self.add_error(
                "auto_granted_value", "A value granted automatically needs automatic granting."
            )
        if (
            self.instance is not None
            and self.instance.retry_delay_seconds is not None
            and data.get("retry_delay_seconds") is None
            and "retry_delay_seconds" not in self.errors
        ):
            self.add_error(
                "retry_delay_seconds",
                "MTurk cannot turn retries off for a type that allowed them; make a new type.",
            )
        return data


class ScoreFilterForm(forms.Form):
    """Filters of a type's worker list (all optional; read from the query string)."""

    status = forms.ChoiceField(
        choices=[("", "Any status"), (services.GRANTED, "Granted"), (services.REVOKED, "Revoked")],
        required=False,
    )
    value_min = _value_field(required=False, label="Value from")
    value_max = _value_field(required=False, label="Value to")
    worker = forms.CharField(required=False, max_length=64, label="Worker id")


class ScoreForm(forms.Form):
    """Grant (or change the value of) a type for one worker, or revoke it with a reason."""

    action = forms.ChoiceField(choices=GrantAction.choices, widget=forms.RadioSelect)
    integer_value = _value_field(
        required=False, label="Value", help_text="For a grant; MTurk's default is 1."
    )
    reason = forms.CharField(
        required=False,
        max_length=1024,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to revoke: MTurk shows it to the worker.",
    )
    send_notification = forms.BooleanField(
        required=False, label="Tell the worker by email (SendNotification)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == GrantAction.REVOKE and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why: MTurk shows the reason to the worker.")
        return data


class GrantUploadForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            (GrantAction.GRANT, "Grant the values in the file (columns WorkerId, Value)"),
            (GrantAction.REVOKE, "Revoke it from the workers in the file (column WorkerId)"),
        ],
        initial=GrantAction.GRANT,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(label="CSV file", help_text="UTF-8, one worker per row.")
    reason = forms.CharField(
        required=False,
        max_length=1024,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required to revoke: MTurk shows it to the workers.",
    )
    send_notification = forms.BooleanField(
        required=False, label="Tell the workers by email (SendNotification)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == GrantAction.REVOKE and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why: MTurk shows the reason to the workers.")
        return data


class ConfirmForm(forms.Form):
    """A confirmation page's own token (dashboard.confirmations); the typed name of a live
    account is dashboard.forms.LiveAccountConfirmForm's."""

    confirmation = forms.CharField(max_length=100, widget=forms.HiddenInput)
