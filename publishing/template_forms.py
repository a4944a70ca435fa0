"""Forms of the question template pages: the template itself, and sample values for its preview."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator

from dashboard.models import RequesterAccount
from publishing.enums import TemplateKind
from publishing.models import QuestionTemplate
from publishing.questions import MAX_FRAME_HEIGHT, template_problems

# A parameter name as the emulator's layouts (and MTurk's) take them.
_LAYOUT_PARAMETER = re.compile(r"[A-Za-z0-9_]{1,64}")
_LAYOUT_ID = re.compile(r"[A-Z0-9]{1,64}")
# Sample values are previews only: long enough for real text, bounded so a post stays small.
MAX_SAMPLE_LENGTH = 5000

CONTENT_HELP = (
    "HTML: the question's HTML, whole or a fragment; crowd-form elements work as on MTurk. "
    "External: the https URL of your page. QuestionForm: the XML. "
    "Write ${name} where a value from each row of inputs goes (letters, digits, underscores); "
    "$${ writes a literal ${."
)


class QuestionTemplateForm(forms.ModelForm):
    layout_parameters = forms.CharField(
        required=False,
        label="Layout parameters",
        help_text="For a HITLayoutId template: the layout's parameter names, one per line.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    class Meta:
        model = QuestionTemplate
        fields = ["name", "kind", "content", "frame_height", "layout_id"]
        widgets = {"content": forms.Textarea(attrs={"rows": 18, "spellcheck": "false"})}
        help_texts = {"content": CONTENT_HELP}

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["frame_height"].validators.append(MaxValueValidator(MAX_FRAME_HEIGHT))
        self.fields["frame_height"].widget.attrs["max"] = MAX_FRAME_HEIGHT
        if self.instance.pk and not self.is_bound:
            self.initial["layout_parameters"] = "\n".join(self.instance.layout_parameter_names)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = QuestionTemplate.objects.filter(account=self.account, name=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("A template with this name exists already.")
        return name

    def clean_layout_id(self) -> str:
        layout_id: str = self.cleaned_data["layout_id"].strip()
        if layout_id and not _LAYOUT_ID.fullmatch(layout_id):
            raise forms.ValidationError(
                "A HITLayoutId is capital letters and digits, as the Requester website shows it."
            )
        return layout_id

    def clean_layout_parameters(self) -> list[str]:
        names = [
            name.strip()
            for name in re.split(r"[\s,]+", self.cleaned_data["layout_parameters"])
            if name.strip()
        ]
        bad = [name for name in names if not _LAYOUT_PARAMETER.fullmatch(name)]
        if bad:
            raise forms.ValidationError(
                "Not a parameter name (letters, digits, underscores): " + ", ".join(bad[:5])
            )
        return list(dict.fromkeys(names))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind is None or self.errors:
            return data
        content = data.get("content", "")
        if kind == TemplateKind.LAYOUT:
            if not data.get("layout_id"):
                self.add_error("layout_id", "A layout template needs the layout's HITLayoutId.")
                return data
        elif not content.strip():
            self.add_error("content", "What should workers see? This template has no content.")
            return data
        problems = template_problems(
            kind=kind,
            content=content,
            frame_height=data.get("frame_height") or 0,
            layout_id=data.get("layout_id", ""),
            layout_parameter_names=data.get("layout_parameters", []),
        )
        for problem in problems:
            self.add_error(None if kind == TemplateKind.LAYOUT else "content", problem)
        return data


class SampleValuesForm(forms.Form):
    """A value for each of a template's variables, to preview the question as one row makes it."""

    def __init__(self, *args: Any, variables: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.variables = list(variables)
        for name in self.variables:
            self.fields[self.field_name(name)] = forms.CharField(
                label=f"${{{name}}}",
                required=False,
                max_length=MAX_SAMPLE_LENGTH,
                strip=False,
            )

    @staticmethod
    def field_name(variable: str) -> str:
        # Prefixed, so no variable can collide with csrfmiddlewaretoken or another field.
        return f"var_{variable}"

    def problems(self) -> list[str]:
        """Each refused value, named by its variable."""
        return [
            f"{self.fields[field].label if field in self.fields else 'Sample values'}: {error}"
            for field, errors in self.errors.as_data().items()
            for problem in errors
            for error in problem.messages
        ]

    def inputs(self) -> dict[str, str]:
        """The sample values, each variable's own placeholder where none was given."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(self.field_name(name)) or f"${{{name}}}" for name in self.variables}
