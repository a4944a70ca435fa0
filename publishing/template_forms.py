"""Forms of the question template pages: the template itself, the QuestionForm builder (one form
per question in a formset, plus the template's name and overview), and sample values for its
preview.

A builder question's choices are one line each in a textarea ("identifier | text"), so a question
needs no nested formset and a browser (or a test) fills it like any text field."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.forms import formset_factory

from dashboard.forms import choice_lines, identifier_error, non_blank_lines
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


def _unique_name(account: RequesterAccount, instance: QuestionTemplate | None, name: str) -> str:
    name = name.strip()
    others = QuestionTemplate.objects.filter(account=account, name=name)
    if instance is not None and instance.pk:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise forms.ValidationError("A template with this name exists already.")
    return name


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
        return _unique_name(self.account, self.instance, self.cleaned_data["name"])

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


# --- the QuestionForm builder --------------------------------------------------------------------

ANSWER_FREE_TEXT = "free_text"
ANSWER_CHOICES = [
    (ANSWER_FREE_TEXT, "Free text"),
    ("radiobutton", "One choice (radio buttons)"),
    ("dropdown", "One choice (drop-down list)"),
    ("checkbox", "Several choices (checkboxes)"),
]
_TEXT_ONLY = ("min_length", "max_length", "regex", "regex_error", "lines")
_CHECKBOX_ONLY = ("min_selections", "max_selections")


def _lines(value: str) -> list[str]:
    return non_blank_lines(value)


def _identifier_error(identifier: str) -> str:
    return identifier_error(identifier, why="it names the answer's column in the results")


class BuilderQuestionForm(forms.Form):
    """One question of a QuestionForm template."""

    identifier = forms.CharField(
        max_length=64,
        label="QuestionIdentifier",
        help_text="Names the answer in the results; letters, digits, . _ -",
    )
    display_name = forms.CharField(max_length=200, required=False, label="Heading (optional)")
    required = forms.BooleanField(required=False, initial=True, label="Workers must answer")
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=20000,
        help_text="Plain text; a blank line starts a new paragraph; ${name} is a variable.",
    )
    answer = forms.ChoiceField(choices=ANSWER_CHOICES, initial=ANSWER_FREE_TEXT, label="Answer")
    choices = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Choices",
        help_text="For a choice answer, one per line: identifier | text (e.g. “b | Paris”).",
    )
    min_selections = forms.IntegerField(
        required=False, min_value=0, label="Checkboxes: at least (optional)"
    )
    max_selections = forms.IntegerField(
        required=False, min_value=1, label="Checkboxes: at most (optional)"
    )
    min_length = forms.IntegerField(
        required=False, min_value=0, label="Free text: at least this many characters (optional)"
    )
    max_length = forms.IntegerField(
        required=False, min_value=1, label="Free text: at most this many characters (optional)"
    )
    regex = forms.CharField(
        max_length=1000,
        required=False,
        strip=False,
        label="Free text: pattern (optional)",
        help_text="A JavaScript regular expression the worker's answer must match.",
    )
    regex_error = forms.CharField(
        max_length=500,
        required=False,
        label="Free text: message when the pattern does not match (optional)",
    )
    lines = forms.IntegerField(
        required=False, min_value=1, max_value=100, label="Free text: lines of the field (optional)"
    )

    def clean_identifier(self) -> str:
        identifier: str = self.cleaned_data["identifier"].strip()
        error = _identifier_error(identifier)
        if error:
            raise forms.ValidationError(error)
        return identifier

    def clean_regex(self) -> str:
        regex: str = self.cleaned_data["regex"]
        # An XML attribute keeps no line break (a parser reads it as a space): the pattern
        # workers get would not be the one written.
        if re.search(r"[\r\n\t]", regex):
            raise forms.ValidationError("A pattern is one line, without tabs.")
        return regex

    def clean_choices(self) -> list[list[str]]:
        return [list(choice) for choice in choice_lines(self.cleaned_data.get("choices", ""))]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        answer = data.get("answer")
        choices = data.get("choices") or []
        if answer is None:
            return data
        given = [
            name for name in (*_TEXT_ONLY, *_CHECKBOX_ONLY) if data.get(name) not in (None, "")
        ]
        if answer == ANSWER_FREE_TEXT:
            if choices:
                self.add_error("choices", "A free-text answer has no choices.")
            for name in given:
                if name in _CHECKBOX_ONLY:
                    self.add_error(name, "Selection counts are for checkboxes.")
            low, high = data.get("min_length"), data.get("max_length")
            if low is not None and high is not None and low > high:
                self.add_error("min_length", "The least is more than the most.")
            if data.get("regex_error") and not data.get("regex"):
                self.add_error("regex_error", "A message needs a pattern.")
            return data
        for name in given:
            if name in _TEXT_ONLY:
                self.add_error(name, "This is for free-text answers.")
            elif answer != "checkbox":
                self.add_error(name, "Selection counts are for checkboxes.")
        if "choices" not in self.errors and not choices:
            self.add_error("choices", "A choice answer needs its choices, one per line.")
        low, high = data.get("min_selections"), data.get("max_selections")
        if answer == "checkbox" and choices:
            if low is not None and high is not None and low > high:
                self.add_error("min_selections", "The least is more than the most.")
            for name, count in (("min_selections", low), ("max_selections", high)):
                if count is not None and count > len(choices):
                    self.add_error(name, f"There are only {len(choices)} choices.")
        return data

    def to_spec(self) -> dict[str, Any]:
        """The question as QuestionTemplate.builder_spec keeps it (only what its answer uses)."""
        data = self.cleaned_data
        spec: dict[str, Any] = {
            "identifier": data["identifier"],
            "display_name": data["display_name"].strip(),
            "required": bool(data["required"]),
            "text": data["text"].strip(),
            "answer": data["answer"],
        }
        if data["answer"] == ANSWER_FREE_TEXT:
            spec.update({name: data[name] for name in _TEXT_ONLY if data[name] not in (None, "")})
        else:
            spec["choices"] = data["choices"]
            if data["answer"] == "checkbox":
                spec.update({name: data[name] for name in _CHECKBOX_ONLY if data[name] is not None})
        return spec


def question_initial(question: dict[str, Any]) -> dict[str, Any]:
    """A question of a builder_spec as the builder's initial data."""
    initial = {name: question.get(name) for name in BuilderQuestionForm.base_fields}
    initial["required"] = bool(question.get("required"))
    initial["choices"] = "\n".join(f"{sid} | {text}" for sid, text in question.get("choices") or [])
    return {name: value for name, value in initial.items() if value is not None}


class _BuilderFormSetBase(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this question (when saving or adding one)"

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            identifier = form.cleaned_data["identifier"]
            if identifier in seen:
                form.add_error("identifier", "Another question has this identifier.")
                raise forms.ValidationError(f"Two questions are named “{identifier}”.")
            seen.add(identifier)
        if not seen:
            raise forms.ValidationError("A QuestionForm needs at least one question.")


BuilderFormSet = formset_factory(
    BuilderQuestionForm, formset=_BuilderFormSetBase, extra=0, can_delete=True
)


class BuilderTemplateForm(forms.Form):
    """The QuestionForm template as a whole: its name and the overview above the questions."""

    name = forms.CharField(max_length=100)
    overview = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=20000,
        help_text="Shown above the questions (optional); a blank line starts a new paragraph; "
        "${name} is a variable.",
    )

    def __init__(
        self,
        *args: Any,
        account: RequesterAccount,
        instance: QuestionTemplate | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.instance = instance

    def clean_name(self) -> str:
        return _unique_name(self.account, self.instance, self.cleaned_data["name"])


def _initial_from_data(form: forms.Form, data: Any) -> dict[str, Any]:
    """What a form's fields hold in posted data, as initial values (no validation, no errors)."""
    return {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }


class QuestionBuilder:
    """The builder's forms together: the template form and the question formset, and the
    builder_spec they make once valid.

    With ``add_question``, the posted values are shown again, unvalidated, with one blank question
    more and without the questions ticked for removal: adding a question is not a save."""

    TEMPLATE_PREFIX = "template"
    QUESTIONS_PREFIX = "questions"

    def __init__(
        self,
        account: RequesterAccount,
        template: QuestionTemplate | None,
        data: Any = None,
        *,
        add_question: bool = False,
    ) -> None:
        options: dict[str, Any] = {
            "account": account,
            "instance": template,
            "prefix": self.TEMPLATE_PREFIX,
        }
        if data is not None and not add_question:
            self.template_form = BuilderTemplateForm(data, **options)
            self.questions = BuilderFormSet(data, prefix=self.QUESTIONS_PREFIX)
            return
        blank = {"answer": ANSWER_FREE_TEXT, "required": True}
        if data is not None:
            posted = BuilderFormSet(data, prefix=self.QUESTIONS_PREFIX)
            kept = [
                _initial_from_data(form, data)
                for form in (posted.forms if posted.management_form.is_valid() else [])
                if not form.fields["DELETE"].widget.value_from_datadict(
                    data, {}, form.add_prefix("DELETE")
                )
            ]
            initial = [{k: v for k, v in q.items() if k != "DELETE"} for q in kept] + [blank]
            header = _initial_from_data(BuilderTemplateForm(**options), data)
        else:
            spec = (template.builder_spec if template is not None else None) or {}
            initial = [question_initial(q) for q in spec.get("questions", [])] or [blank]
            header = {"name": template.name if template else "", "overview": spec.get("overview")}
        self.template_form = BuilderTemplateForm(initial=header, **options)
        self.questions = BuilderFormSet(initial=initial, prefix=self.QUESTIONS_PREFIX)

    def is_valid(self) -> bool:
        if not (self.template_form.is_bound and self.questions.is_bound):
            return False
        # Both, so that every error of the page shows at once.
        return self.template_form.is_valid() & self.questions.is_valid()

    def spec(self) -> dict[str, Any]:
        """The builder_spec of the (valid) forms."""
        return {
            "overview": self.template_form.cleaned_data["overview"].strip(),
            "questions": [
                form.to_spec()
                for form in self.questions.forms
                # A blank extra question (empty_permitted, unchanged) has no cleaned data.
                if form.cleaned_data and not form.cleaned_data.get("DELETE")
            ],
        }


class BuilderActionForm(forms.Form):
    """Which button of the builder was pressed."""

    action = forms.ChoiceField(choices=[("add_question", "Add a question"), ("save", "Save")])


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

    def values(self) -> dict[str, str]:
        """The values given (valid form), by variable; an empty one is left out."""
        return {
            name: self.cleaned_data[self.field_name(name)]
            for name in self.variables
            if self.cleaned_data.get(self.field_name(name))
        }

    def inputs(self) -> dict[str, str]:
        """The sample values, each variable's own placeholder where none was given."""
        data = self.cleaned_data if self.is_valid() else {}
        return {name: data.get(self.field_name(name)) or f"${{{name}}}" for name in self.variables}
