"""Forms of the worker directory: the list's filters (read from the query string) and the note
and tag forms of a worker's page."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dashboard.models import RequesterAccount
from hits.models import HITType
from people.models import WorkerNote, WorkerTag

# Tags are short labels typed by hand: letters, digits, spaces, "-", "_" and "." (no markup).
TAG = re.compile(r"[\w .-]+")
TAG_MAX = WorkerTag._meta.get_field("tag").max_length or 40
NOTE_MAX = WorkerNote._meta.get_field("text").max_length or 2000


class WorkerFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=64, label="Worker id")
    blocked = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Blocked or not"),
            ("any", "Blocked (hard or soft)"),
            ("hard", "Hard-blocked"),
            ("soft", "Soft-blocked"),
            ("pending", "Block change pending"),
            ("none", "Not blocked"),
        ],
    )
    tag = forms.ChoiceField(required=False, choices=[("", "Any tag")])
    approval_below = forms.DecimalField(
        required=False,
        min_value=0,
        max_value=100,
        decimal_places=1,
        label="Approval below (%)",
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )
    study = forms.ModelChoiceField(
        required=False,
        queryset=HITType.objects.none(),
        to_field_name="hit_type_id",
        empty_label="Any study",
        label="Worked on",
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("worker_id", "Worker id"),
            ("-assignments", "Most assignments"),
            ("approval_rate", "Lowest approval"),
            ("-approval_rate", "Highest approval"),
            ("-last_submit", "Latest submission"),
        ],
    )

    def __init__(
        self, *args: Any, account: RequesterAccount, tags: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.ChoiceField)
        tag_field.choices = [("", "Any tag"), *((t, t) for t in tags)]
        study_field = self.fields["study"]
        assert isinstance(study_field, forms.ModelChoiceField)
        study_field.queryset = HITType.objects.filter(account=account).order_by("title")


class NoteForm(forms.Form):
    text = forms.CharField(
        max_length=NOTE_MAX,
        strip=True,
        label="Note",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX}),
    )


class TagForm(forms.Form):
    tag = forms.CharField(max_length=TAG_MAX, strip=True, label="Tag")

    def clean_tag(self) -> str:
        tag = " ".join(self.cleaned_data["tag"].split()).lower()
        if not TAG.fullmatch(tag):
            raise ValidationError("Use letters, digits, spaces, “-”, “_” or “.”.")
        return tag
