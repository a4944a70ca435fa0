"""Forms of the manage-live-HITs pages: the change (which HITs, what to do), its confirmation,
and the "add assignments where workers disagree" preview."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from dashboard.models import RequesterAccount
from hits.models import HITType
from publishing.enums import HITChangeAction
from publishing.hit_changes import MAX_HITS

HIT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class HitIdsField(forms.Field):
    """Repeated `hit` inputs (ticked rows, or the HITs a page listed), as a list of HIT ids."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        return [str(item).strip() for item in value]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > MAX_HITS:
            raise forms.ValidationError(f"At most {MAX_HITS:,} HITs at a time.")
        if not all(HIT_ID.match(item) for item in value):
            raise forms.ValidationError("That is not a HIT id.")


class ChangeForm(forms.Form):
    hit = HitIdsField(error_messages={"required": "Choose at least one HIT."})
    action = forms.ChoiceField(choices=HITChangeAction.choices, widget=forms.RadioSelect)
    count = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=1000,
        label="Assignments to add (per HIT)",
        help_text="A HIT created with fewer than 10 assignments cannot be extended to 10 or more.",
    )
    expire_at = forms.DateTimeField(
        required=False,
        label="New expiry",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Later to extend, earlier to shorten (in the future; or choose “Expire now”).",
    )
    hit_type_id = forms.ChoiceField(required=False, label="New HIT type")
    revert = forms.BooleanField(
        required=False,
        label="Revert (Reviewing → Reviewable)",
        help_text="Unticked: Reviewable → Reviewing.",
    )

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        choices = [("", "—")] + [
            (hit_type_id, f"{title or hit_type_id} ({hit_type_id})")
            for hit_type_id, title in HITType.objects.filter(account=account)
            .order_by("title")
            .values_list("hit_type_id", "title")
        ]
        field = self.fields["hit_type_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == HITChangeAction.ADD_ASSIGNMENTS and not data.get("count"):
            self.add_error("count", "Say how many assignments to add.")
        if action == HITChangeAction.UPDATE_EXPIRATION and not data.get("expire_at"):
            self.add_error("expire_at", "Give the new expiry.")
        if action == HITChangeAction.CHANGE_TYPE and not data.get("hit_type_id"):
            self.add_error("hit_type_id", "Choose the new HIT type.")
        return data

    def parameters(self) -> dict[str, Any]:
        """The chosen action's parameters, for hit_changes.plan_change."""
        data = self.cleaned_data
        return {
            "count": data.get("count"),
            "expire_at": data.get("expire_at"),
            "hit_type_id": data.get("hit_type_id"),
            "revert": data.get("revert"),
        }


class ConfirmChangeForm(ChangeForm):
    confirmation = forms.CharField(max_length=200, widget=forms.HiddenInput)


class DisagreementForm(forms.Form):
    threshold = forms.IntegerField(
        min_value=1,
        max_value=100,
        initial=70,
        label="Agreement below (%)",
        help_text="A HIT's agreement is its weakest field's share agreeing with the majority.",
    )
    count = forms.IntegerField(
        min_value=1, max_value=1000, initial=1, label="Assignments to add to each"
    )
