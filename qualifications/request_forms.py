"""Forms of the qualification request queue: the type filter, one row's decision, the bulk
decision of ticked rows and its confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from qualifications.enums import RequestAction
from qualifications.models import QualificationType
from qualifications.requests import MAX_REASON

# A request id as MTurk writes them (upper-case letters and digits); anything else is refused.
REQUEST_ID = r"^[A-Z0-9]{1,64}$"
MAX_SELECTED = 1000


class QueueFilterForm(forms.Form):
    type = forms.ModelChoiceField(
        queryset=QualificationType.objects.none(),
        to_field_name="qualification_type_id",
        required=False,
        empty_label="Every type",
        label="Qualification type",
    )

    def __init__(self, *args: Any, types: QuerySet[QualificationType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = types  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    """One request's accept (with a value, or the answer key's score) or reject (with a reason)."""

    action = forms.ChoiceField(choices=RequestAction.choices)
    value = forms.IntegerField(
        required=False,
        min_value=-(2**31),
        max_value=2**31 - 1,
        label="Value",
        help_text="Blank: the score the answer key gives (MTurk's default, 1, without a key).",
    )
    reason = forms.CharField(
        required=False, max_length=MAX_REASON, label="Reason (the worker sees it)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == RequestAction.REJECT and not (data.get("reason") or "").strip():
            self.add_error("reason", "A rejection needs a reason: the worker sees it.")
        return data


class SelectedRequestsField(forms.CharField):
    """The ticked rows: request ids, several values under one name."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        return [str(v).strip() for v in values if str(v).strip()]

    def validate(self, value: Any) -> None:
        if not value:
            raise forms.ValidationError("Tick the requests to decide first.")
        if len(value) > MAX_SELECTED:
            raise forms.ValidationError(f"At most {MAX_SELECTED} requests at a time.")
        validator = forms.RegexField(regex=REQUEST_ID)
        for item in value:
            validator.clean(item)

    def run_validators(self, value: Any) -> None:
        return None


class BulkDecisionForm(DecisionForm):
    """The ticked rows and one decision for all of them (the confirmation page repeats it)."""

    selected = SelectedRequestsField()


class BulkConfirmForm(BulkDecisionForm):
    """The confirmation page's post: what it showed and its one-time token."""

    confirmation = forms.CharField(max_length=200)
