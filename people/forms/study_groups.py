"""The study group form: its name, description and the account's HIT types in it."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.models import RequesterAccount
from hits.models import HITType
from people.models import StudyGroup


class StudyGroupForm(forms.ModelForm):
    hit_types = forms.ModelMultipleChoiceField(
        queryset=HITType.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Studies (HIT types) in the group",
        help_text="Whoever did any of these is kept out of the group's next studies.",
    )

    class Meta:
        model = StudyGroup
        fields = ["name", "description", "hit_types", "is_active"]

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        field = self.fields["hit_types"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = HITType.objects.filter(account=account).order_by("title")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        taken = StudyGroup.objects.filter(account=self.account, name=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("The account has a study group of that name already.")
        return name
