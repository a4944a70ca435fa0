"""Forms of granting a qualification from a study's review: by agreement with the majority, and
to the workers of the grid's ticked rows; each confirmed on its own page with a one-time token."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet

from qualifications.models import QualificationType

# Worker and assignment ids as MTurk writes them; anything else in a list is refused.
MTURK_ID = re.compile(r"^[A-Z0-9]{1,64}$")
MAX_WORKERS = 10000
MAX_REASON = 1000


class IdListField(forms.Field):
    """Repeated values of one name (`<input name=x>` many times): MTurk ids, as a list."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, max_items: int = MAX_WORKERS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        items = value if isinstance(value, list | tuple) else [value]
        return [str(item).strip() for item in items if str(item).strip()]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items:,} at a time.")
        if not all(MTURK_ID.match(item) for item in value):
            raise forms.ValidationError("The list holds something that is not an MTurk id.")


class _GrantFields(forms.Form):
    qualification_type = forms.ModelChoiceField(
        queryset=QualificationType.objects.none(),
        to_field_name="qualification_type_id",
        label="Qualification type",
        empty_label="Choose a type…",
    )
    value = forms.IntegerField(
        required=False,
        min_value=-(2**31),
        max_value=2**31 - 1,
        label="Value to grant",
        help_text="Blank: MTurk's default, 1. A worker who holds the type gets this value instead.",
    )

    def __init__(self, *args: Any, types: QuerySet[QualificationType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["qualification_type"].queryset = types  # type: ignore[attr-defined]


class DerivedForm(_GrantFields):
    """Who should get the type: a threshold on agreement with the majority."""

    threshold = forms.IntegerField(
        min_value=0,
        max_value=100,
        initial=80,
        label="Agreement with the majority, at least (%)",
    )
    min_compared = forms.IntegerField(
        min_value=1,
        max_value=1_000_000,
        initial=5,
        label="Answers compared, at least",
        help_text="Answers to HITs where a majority exists; fewer says little about a worker.",
    )


class DerivedConfirmForm(DerivedForm):
    """The preview page's post: what it listed and its token."""

    worker = IdListField(required=True)
    confirmation = forms.CharField(max_length=200, widget=forms.HiddenInput)


class SelectedRowsForm(forms.Form):
    """What the review grid posts: the ticked assignment ids (its other fields are ignored)."""

    selected = IdListField(required=False, max_items=1000)


class SelectedConfirmForm(_GrantFields):
    """The grid grant's page: the workers it listed, the type and value chosen there, its token."""

    worker = IdListField(required=True)
    confirmation = forms.CharField(max_length=200, widget=forms.HiddenInput)
