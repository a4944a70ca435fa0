"""Forms of the bonus pages: the ledger's filters, one bonus, a bonus file and its confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from dashboard.enums import IntentState
from people.models import MAX_REASON
from people.services.bonuses import BonusRefused, clean_amount, clean_reason


class LedgerFilterForm(forms.Form):
    """Filters of the ledger (all optional; read from the query string)."""

    state = forms.ChoiceField(choices=[("", "Any state"), *IntentState.choices], required=False)
    worker = forms.CharField(required=False, max_length=64, label="Worker id")


class BonusForm(forms.Form):
    """One bonus for an assignment's worker; "pay again" (with its reason) for a second one."""

    amount = forms.CharField(max_length=20, label="Amount (US$)", help_text="At least 0.01.")
    reason = forms.CharField(
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="MTurk shows it to the worker.",
    )
    pay_again = forms.BooleanField(
        required=False, label="Pay again: this worker already has a bonus for this assignment"
    )
    pay_again_reason = forms.CharField(
        required=False,
        max_length=1000,
        label="Why pay again",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_amount(self) -> Decimal:
        try:
            return clean_amount(self.cleaned_data["amount"])
        except BonusRefused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_reason(self) -> str:
        try:
            return clean_reason(self.cleaned_data["reason"])
        except BonusRefused as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("pay_again") and not (data.get("pay_again_reason") or "").strip():
            self.add_error("pay_again_reason", "Say why this worker is paid a second time.")
        return data


class BonusUploadForm(forms.Form):
    file = forms.FileField(
        label="Bonus CSV",
        help_text="Columns: WorkerId, AssignmentId, BonusAmount, Reason (the Requester website's "
        "“Worker ID”, “Assignment ID”, “Amount”, “Feedback” work too). UTF-8.",
    )


class RunConfirmForm(forms.Form):
    """The confirmation page's own token (dashboard.confirmations); the typed name of a live
    account is dashboard.forms.LiveAccountConfirmForm's."""

    confirmation = forms.CharField(max_length=100, widget=forms.HiddenInput)
