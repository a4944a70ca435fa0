"""The requirements builder: a preset's name and its rows (kind, comparator, values,
ActionsGuarded). The rows are a formset so "Add a requirement" is a plain submit that the server
answers with one more row: no script needed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import BaseFormSet, formset_factory

from dashboard.forms import typed_field
from dashboard.models import RequesterAccount
from mturk.requesting import MAX_REQUIREMENTS, ActionsGuarded, Comparator
from publishing import requirements
from publishing.requirements import Row

COMPARATOR_CHOICES = [
    ("", "Default"),
    (Comparator.EXISTS, "has the qualification"),
    (Comparator.DOES_NOT_EXIST, "does not have it"),
    (Comparator.GREATER_THAN_OR_EQUAL_TO, "≥"),
    (Comparator.GREATER_THAN, ">"),
    (Comparator.LESS_THAN_OR_EQUAL_TO, "≤"),
    (Comparator.LESS_THAN, "<"),
    (Comparator.EQUAL_TO, "="),
    (Comparator.NOT_EQUAL_TO, "≠"),
    (Comparator.IN, "is one of"),
    (Comparator.NOT_IN, "is none of"),
]
ACTIONS_GUARDED_CHOICES = [
    (ActionsGuarded.ACCEPT, "Accept"),
    (ActionsGuarded.PREVIEW_AND_ACCEPT, "Preview and accept"),
    (ActionsGuarded.DISCOVER_PREVIEW_AND_ACCEPT, "Find, preview and accept"),
]


class PresetForm(forms.Form):
    name = forms.CharField(max_length=100)


class RequirementRowForm(forms.Form):
    kind = forms.ChoiceField(label="Requirement", required=False)
    comparator = forms.ChoiceField(choices=COMPARATOR_CHOICES, required=False)
    values = forms.CharField(
        required=False,
        max_length=500,
        help_text="Numbers, or country codes (US, DE, US-CA), separated by spaces or commas.",
    )
    actions_guarded = forms.ChoiceField(
        label="Workers who fail it may not",
        choices=ACTIONS_GUARDED_CHOICES,
        initial=ActionsGuarded.ACCEPT,
    )

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        typed_field(self, "kind", forms.ChoiceField).choices = requirements.kind_choices(account)

    def row(self) -> Row | None:
        """The row, or None for a line left blank (ignored, like an empty spreadsheet line)."""
        data = self.cleaned_data
        if not data.get("kind"):
            return None
        return Row(data["kind"], data["comparator"], data["values"], data["actions_guarded"])


class BaseRequirementFormSet(BaseFormSet):
    def rows(self) -> list[Row]:
        return [row for form in self.forms if (row := form.row()) is not None]


# max_num well above 10: more than 10 rows must reach the service, which refuses them with
# MTurk's rule in words, rather than be cut off silently by the formset.
RequirementFormSet = formset_factory(
    RequirementRowForm,
    formset=BaseRequirementFormSet,
    extra=0,
    max_num=MAX_REQUIREMENTS * 3,
    validate_max=True,
)


def requirement_formset(
    account: RequesterAccount,
    *,
    data: Any = None,
    initial: list[dict[str, str]] | None = None,
    add_row: bool = False,
) -> BaseRequirementFormSet:
    """The builder's rows: from the submitted ``data`` (one blank row more when ``add_row``), or
    from ``initial`` (a preset's rows; one blank row when there are none)."""
    prefix = "row"
    if data is not None and add_row:
        data = data.copy()
        key = f"{prefix}-TOTAL_FORMS"
        try:
            total = int(data.get(key, 0))
        except ValueError:
            total = 0
        data[key] = str(min(total + 1, MAX_REQUIREMENTS * 3))
    if data is None and not initial:
        initial = [{"actions_guarded": ActionsGuarded.ACCEPT}]
    formset = RequirementFormSet(
        data, initial=initial, prefix=prefix, form_kwargs={"account": account}
    )
    assert isinstance(formset, BaseRequirementFormSet)
    return formset


def initial_rows(rows: list[Row]) -> list[dict[str, str]]:
    return [
        {
            "kind": row.kind,
            "comparator": row.comparator,
            "values": row.values,
            "actions_guarded": row.actions_guarded,
        }
        for row in rows
    ]
