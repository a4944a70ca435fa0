from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.views.decorators.debug import sensitive_variables

from dashboard.enums import Environment
from dashboard.models import RequesterAccount
from mturk.requesting import QUESTION_IDENTIFIER

FieldT = TypeVar("FieldT", bound=forms.Field)


def typed_field(form: forms.BaseForm, name: str, kind: type[FieldT]) -> FieldT:
    """`form.fields[name]` as the field class it was declared with (`fields` holds plain Fields as
    far as the type checker knows), for forms that fill in choices or querysets at run time."""
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(f"Field {name!r} is a {type(field).__name__}, not a {kind.__name__}.")
    return field


def https_url_fields(db_field: models.Field, **kwargs: Any) -> forms.Field | None:
    """Form fields for a model: a URL typed without a scheme means https (Django 6's default)."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class RequesterAccountForm(forms.ModelForm):
    """Create or edit an account. The secret is write-only: never rendered back into the page."""

    aws_secret_access_key = forms.CharField(
        label="AWS secret access key",
        required=False,
        strip=True,
        max_length=256,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: leave blank to keep the stored secret.",
    )

    class Meta:
        model = RequesterAccount
        fields = [
            "name",
            "slug",
            "environment",
            "endpoint_url",
            "aws_access_key_id",
            "sqs_queue_url",
            "sns_topic_arn",
            "sns_trusted_certificate",
            "is_active",
            "bonus_run_cap",
            "budget_cap",
        ]
        labels = {"endpoint_url": "Endpoint URL"}
        widgets = {"sns_trusted_certificate": forms.Textarea(attrs={"rows": 4})}
        formfield_callback = https_url_fields

    field_order = [
        "name",
        "slug",
        "environment",
        "endpoint_url",
        "aws_access_key_id",
        "aws_secret_access_key",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_secret_access_key:
            self.fields[
                "aws_secret_access_key"
            ].help_text = "A secret is stored. Write-only: leave blank to keep it."

    # `cleaned` holds the secret as typed.
    @sensitive_variables("cleaned")
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        has_secret = bool(cleaned.get("aws_secret_access_key")) or (
            self.instance.pk and self.instance.has_secret_access_key
        )
        if cleaned.get("environment") in (Environment.SANDBOX, Environment.LIVE) and not has_secret:
            self.add_error(
                "aws_secret_access_key", "Sandbox and live accounts need an AWS secret access key."
            )
        return cleaned


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)

    def clean_username(self) -> Any:
        username = self.cleaned_data["username"].strip()
        user_model = get_user_model()
        try:
            return user_model.objects.get(username=username, is_active=True)
        except user_model.DoesNotExist:
            raise forms.ValidationError(f"No active user is called {username!r}.") from None


class RemoveMemberForm(forms.Form):
    user_id = forms.IntegerField(min_value=1)


class LiveAccountConfirmForm(forms.Form):
    """The typed account name that confirms an action on a live account (real money, real
    workers). On sandbox and emulator accounts it asks nothing."""

    confirm_name = forms.CharField(
        required=False, max_length=100, label="Type the account name to confirm"
    )

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"].strip()
        if self.account.is_live and typed != self.account.name:
            raise forms.ValidationError(
                "Type the account name exactly to confirm this on a live account."
            )
        return typed

    def problem(self) -> str:
        """Why the confirmation was refused (after `is_valid()` said False)."""
        return " ".join(str(message) for message in self.errors.get("confirm_name", []))


# --- the question editors' shared fields (the QuestionForm builder, the qualification test editor) ---


def non_blank_lines(value: str) -> list[str]:
    """A textarea's lines, stripped, blank ones left out."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def identifier_error(identifier: str, *, why: str = "") -> str:
    """Why `identifier` cannot name a question or a choice ('' when it can): MTurk's
    QuestionIdentifier / SelectionIdentifier, as our documents write them."""
    if QUESTION_IDENTIFIER.fullmatch(identifier):
        return ""
    return (
        f"“{identifier}” cannot be an identifier: use 1 to 64 letters, digits, dots, dashes or "
        f"underscores{f' ({why})' if why else ''}."
    )


def choice_lines(value: str) -> list[tuple[str, str]]:
    """A textarea of choices, one `identifier | text` per line, as (identifier, text) pairs;
    ValidationError naming the first bad line or a repeated identifier."""
    choices: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, line in enumerate(non_blank_lines(value), 1):
        identifier, bar, text = line.partition("|")
        identifier, text = identifier.strip(), text.strip()
        if not bar or not text:
            raise forms.ValidationError(
                f"Choice line {number} (“{line}”) needs an identifier, a | and the text."
            )
        error = identifier_error(identifier)
        if error:
            raise forms.ValidationError(f"Choice line {number}: {error}")
        if identifier in seen:
            raise forms.ValidationError(f"Two choices are named “{identifier}”.")
        seen.add(identifier)
        choices.append((identifier, text))
    return choices
