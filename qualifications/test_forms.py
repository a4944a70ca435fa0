"""Forms of the qualification test editor: the builder (one form per question in a formset, plus
the test's settings: overview, duration, score mapping) and the raw XML form.

Both end in the same :class:`~qualifications.test_editor.TestDocuments` and are checked against
the same rules (:func:`qualifications.test_editor.test_problems`), each problem shown as a form
error. Options and right answers are one line each in a textarea, so a question needs no nested
formset and a browser (or a test) fills it like any text field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.forms import formset_factory

from dashboard.forms import choice_lines, identifier_error, non_blank_lines
from mturk.qualification_test import (
    AnswerOption,
    MappingKind,
    Option,
    QualificationTest,
    QuestionKind,
    RangeBand,
    ScoreMapping,
    TestQuestion,
    build_answer_key,
    build_question_form,
    paragraphs,
)
from qualifications.models import QualificationType
from qualifications.test_editor import TestDocuments, test_problems

__all__ = [
    "QuestionFormSet",
    "RawTestForm",
    "TestQuestionForm",
    "TestSettingsForm",
    "builder_documents",
    "question_initial",
    "settings_initial",
]

_ANSWER_LINE = re.compile(r"(?P<ids>[^=]+)=\s*(?P<score>[+-]?[0-9]+)\s*")
_RANGE_LINE = re.compile(
    r"\s*(?P<low>[+-]?[0-9]+)\s*(?:\.\.|to)\s*(?P<high>[+-]?[0-9]+)\s*=\s*(?P<value>[+-]?[0-9]+)\s*"
)
MAX_DURATION_SECONDS = 365 * 24 * 3600


def _plain_decimal(value: Decimal) -> Decimal:
    """``value`` without trailing zeros, never in exponent form (``normalize`` would make 100 into
    1E+2, which the AnswerKey schema's decimal does not accept)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def _lines(value: str) -> list[str]:
    return non_blank_lines(value)


def _identifier_error(identifier: str) -> str:
    return identifier_error(identifier)


class TestQuestionForm(forms.Form):
    """One question of the test, with its part of the answer key."""

    __test__ = False  # not a pytest test class, whatever its name

    identifier = forms.CharField(
        max_length=64,
        help_text="Names the question in workers' answers; letters, digits, . _ -",
    )
    display_name = forms.CharField(max_length=200, required=False, label="Heading (optional)")
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="Plain text; a blank line starts a new paragraph.",
    )
    kind = forms.ChoiceField(
        choices=[
            (QuestionKind.SINGLE.value, "One answer (radio buttons)"),
            (QuestionKind.MULTIPLE.value, "Several answers (checkboxes)"),
            (QuestionKind.FREE_TEXT.value, "Free text (not scored)"),
        ],
        initial=QuestionKind.SINGLE.value,
    )
    required = forms.BooleanField(required=False, initial=True, label="Workers must answer")
    options = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Choices",
        help_text="One per line: identifier | text (e.g. “b | Paris”).",
    )
    answers = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Right answers and scores",
        help_text="One per line: the identifiers a worker must pick (all of them, no others), "
        "then = and the score (e.g. “b = 1” or “a, c = 2”). Scores may be negative.",
    )
    default_score = forms.IntegerField(
        required=False,
        label="Score for any other answer (optional)",
        help_text="Added when no line above matches; MTurk counts 0 if empty.",
    )

    def clean_identifier(self) -> str:
        identifier: str = self.cleaned_data["identifier"].strip()
        error = _identifier_error(identifier)
        if error:
            raise forms.ValidationError(error)
        return identifier

    def clean_options(self) -> list[Option]:
        return [Option(*choice) for choice in choice_lines(self.cleaned_data.get("options", ""))]

    def clean_answers(self) -> list[AnswerOption]:
        answers = []
        for number, line in enumerate(_lines(self.cleaned_data.get("answers", "")), 1):
            match = _ANSWER_LINE.fullmatch(line)
            if match is None:
                raise forms.ValidationError(
                    f"Answer line {number} (“{line}”) must read: identifiers = whole-number score."
                )
            ids = tuple(sid.strip() for sid in match["ids"].split(",") if sid.strip())
            if not ids or len(set(ids)) != len(ids):
                raise forms.ValidationError(
                    f"Answer line {number} must name each right choice once."
                )
            answers.append(AnswerOption(ids, int(match["score"])))
        return answers

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        options: list[Option] = data.get("options") or []
        answers: list[AnswerOption] = data.get("answers") or []
        if kind == QuestionKind.FREE_TEXT:
            if options:
                self.add_error("options", "A free-text question has no choices.")
            if answers or data.get("default_score") is not None:
                self.add_error(
                    "answers", "An answer key can only score choices, not free text (MTurk)."
                )
            return data
        if kind and len(options) < 2:
            self.add_error("options", "A multiple-choice question needs at least two choices.")
        known = {option.identifier for option in options}
        for answer in answers:
            unknown = [sid for sid in answer.selections if sid not in known]
            if unknown:
                self.add_error("answers", f"“{', '.join(unknown)}” is not one of the choices.")
            elif kind == QuestionKind.SINGLE and len(answer.selections) > 1:
                self.add_error(
                    "answers", "A one-answer question's right answers name one choice each."
                )
        return data

    def to_question(self) -> TestQuestion:
        data = self.cleaned_data
        return TestQuestion(
            identifier=data["identifier"],
            text="\n\n".join(paragraphs(data["text"])),
            kind=QuestionKind(data["kind"]),
            options=tuple(data["options"]),
            display_name=data["display_name"].strip(),
            required=data["required"],
            answers=tuple(data["answers"]),
            default_score=data["default_score"],
        )


class _QuestionFormSetBase(forms.BaseFormSet):
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
            if form.cleaned_data.get("DELETE"):
                continue
            identifier = form.cleaned_data.get("identifier")
            if identifier in seen:
                raise forms.ValidationError(f"Two questions are named “{identifier}”.")
            if identifier:
                seen.add(identifier)
        if not seen:
            raise forms.ValidationError("A test needs at least one question.")


QuestionFormSet = formset_factory(
    TestQuestionForm, formset=_QuestionFormSetBase, extra=0, can_delete=True
)


SCORING_MTURK, SCORING_QUEUE = "mturk", "queue"
SCORING_CHOICES = [
    (SCORING_MTURK, "MTurk grants them at once: send the answer key with the test"),
    (SCORING_QUEUE, "I decide each one in the queue: keep the answer key in the dashboard"),
]


def scoring_initial(qualification_type: QualificationType) -> str:
    return SCORING_QUEUE if qualification_type.review_answer_key else SCORING_MTURK


class TestSettingsForm(forms.Form):
    """The test as a whole: overview, duration and how the summed score becomes the value."""

    __test__ = False  # not a pytest test class, whatever its name

    overview = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=5000,
        help_text="Shown above the questions (optional); a blank line starts a new paragraph.",
    )
    duration_seconds = forms.IntegerField(
        min_value=1,
        max_value=MAX_DURATION_SECONDS,
        label="Time allowed (seconds)",
        help_text="From the moment a worker requests the qualification.",
    )
    # Not required: a post without it sends the key, as MTurk's own forms do.
    scoring = forms.ChoiceField(
        choices=SCORING_CHOICES,
        initial=SCORING_MTURK,
        required=False,
        widget=forms.RadioSelect,
        label="Requests",
        help_text="With the key at MTurk a worker who takes the test gets the qualification at "
        "once; kept here, their requests wait in the queue with the key's score beside them.",
    )
    mapping = forms.ChoiceField(
        choices=[
            (MappingKind.NONE.value, "The summed score is the value"),
            (MappingKind.PERCENTAGE.value, "Percentage of a maximum score"),
            (MappingKind.SCALE.value, "Summed score times a multiplier"),
            (MappingKind.RANGE.value, "Values for ranges of the summed score"),
        ],
        initial=MappingKind.NONE.value,
        widget=forms.RadioSelect,
        label="Qualification value",
    )
    maximum_summed_score = forms.IntegerField(
        required=False, min_value=1, label="Maximum summed score (percentage)"
    )
    multiplier = forms.DecimalField(
        required=False, max_digits=12, decimal_places=4, label="Multiplier (scale)"
    )
    ranges = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Ranges",
        help_text="One per line: lowest .. highest summed score = value (e.g. “3 .. 5 = 100”).",
    )
    out_of_range_value = forms.IntegerField(required=False, label="Value outside every range")

    def clean_ranges(self) -> list[RangeBand]:
        bands = []
        for number, line in enumerate(_lines(self.cleaned_data.get("ranges", "")), 1):
            match = _RANGE_LINE.fullmatch(line)
            if match is None:
                raise forms.ValidationError(
                    f"Range line {number} (“{line}”) must read: lowest .. highest = value."
                )
            band = RangeBand(int(match["low"]), int(match["high"]), int(match["value"]))
            if band.low > band.high:
                raise forms.ValidationError(
                    f"Range line {number}: the lowest is above the highest."
                )
            bands.append(band)
        ordered = sorted(bands, key=lambda band: band.low)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.low <= before.high:
                # MTurk: "If ranges overlap, the behavior is undefined."
                raise forms.ValidationError(
                    f"The ranges {before.low} .. {before.high} and {after.low} .. {after.high} overlap."
                )
        return bands

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("mapping")
        if kind == MappingKind.PERCENTAGE and data.get("maximum_summed_score") is None:
            self.add_error("maximum_summed_score", "A percentage needs the maximum summed score.")
        if kind == MappingKind.SCALE and data.get("multiplier") is None:
            self.add_error("multiplier", "A scale needs a multiplier.")
        if kind == MappingKind.RANGE:
            if not data.get("ranges") and "ranges" not in self.errors:
                self.add_error("ranges", "Give at least one range.")
            if data.get("out_of_range_value") is None:
                self.add_error(
                    "out_of_range_value", "Give the value for scores outside the ranges."
                )
        return data

    def to_mapping(self) -> ScoreMapping:
        data = self.cleaned_data
        kind = MappingKind(data["mapping"])
        if kind == MappingKind.PERCENTAGE:
            return ScoreMapping(kind, maximum_summed_score=data["maximum_summed_score"])
        if kind == MappingKind.SCALE:
            return ScoreMapping(kind, multiplier=_plain_decimal(data["multiplier"]))
        if kind == MappingKind.RANGE:
            return ScoreMapping(
                kind, ranges=tuple(data["ranges"]), out_of_range_value=data["out_of_range_value"]
            )
        return ScoreMapping()


def builder_documents(
    settings_form: TestSettingsForm, formset: Any
) -> tuple[QualificationTest, TestDocuments]:
    """The test the (valid) builder forms describe, and its documents."""
    questions = tuple(
        form.to_question()
        for form in formset.forms
        # A blank extra question (empty_permitted, unchanged) has no cleaned data: not a question.
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    )
    test = QualificationTest(
        questions,
        overview="\n\n".join(paragraphs(settings_form.cleaned_data["overview"])),
        mapping=settings_form.to_mapping(),
    )
    documents = TestDocuments(
        build_question_form(test),
        build_answer_key(test),
        settings_form.cleaned_data["duration_seconds"],
        keep_key_here=settings_form.cleaned_data["scoring"] == SCORING_QUEUE,
    )
    return test, documents


def question_initial(question: TestQuestion) -> dict[str, Any]:
    """A question as the builder's initial data."""
    return {
        "identifier": question.identifier,
        "display_name": question.display_name,
        "text": question.text,
        "kind": question.kind.value,
        "required": question.required,
        "options": "\n".join(f"{option.identifier} | {option.text}" for option in question.options),
        "answers": "\n".join(
            f"{', '.join(answer.selections)} = {answer.score}" for answer in question.answers
        ),
        "default_score": question.default_score,
    }


def settings_initial(test: QualificationTest | None, duration: int | None) -> dict[str, Any]:
    initial: dict[str, Any] = {"duration_seconds": duration or 600}
    if test is None:
        return initial
    mapping = test.mapping
    initial.update(
        overview=test.overview,
        mapping=mapping.kind.value,
        maximum_summed_score=mapping.maximum_summed_score,
        multiplier=mapping.multiplier,
        ranges="\n".join(f"{band.low} .. {band.high} = {band.value}" for band in mapping.ranges),
        out_of_range_value=mapping.out_of_range_value,
    )
    return initial


class RawTestForm(forms.Form):
    """The test as XML, for what the builder cannot express (pictures, formatted text...)."""

    question_form = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}),
        label="QuestionForm (the test)",
        strip=False,
    )
    answer_key = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        label="AnswerKey (optional)",
        required=False,
        strip=False,
        help_text="Without one, every request waits for the lab to accept or reject it.",
    )
    duration_seconds = forms.IntegerField(
        min_value=1, max_value=MAX_DURATION_SECONDS, label="Time allowed (seconds)"
    )
    # Not required: a post without it sends the key, as MTurk's own forms do.
    scoring = forms.ChoiceField(
        choices=SCORING_CHOICES,
        initial=SCORING_MTURK,
        required=False,
        widget=forms.RadioSelect,
        label="Requests",
        help_text="With the key at MTurk a worker who takes the test gets the qualification at "
        "once; kept here, their requests wait in the queue with the key's score beside them.",
    )

    def __init__(self, *args: Any, qualification_type: QualificationType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.qualification_type = qualification_type

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "question_form" in self.errors or "answer_key" in self.errors:
            return data
        # Every problem at once, also when the duration is missing (its own field says so).
        problems = test_problems(
            self.qualification_type,
            self.documents(),
            check_duration="duration_seconds" not in self.errors,
        )
        for problem in problems:
            self.add_error(None, problem)
        return data

    def documents(self) -> TestDocuments:
        data = self.cleaned_data
        return TestDocuments(
            data["question_form"].strip(),
            (data.get("answer_key") or "").strip(),
            data.get("duration_seconds"),
            keep_key_here=data.get("scoring") == SCORING_QUEUE,
        )


def _initial_from_data(form: forms.Form, data: Any) -> dict[str, Any]:
    """What a form's fields hold in posted data, as initial values (no validation, no errors)."""
    return {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }


class TestBuilder:
    """The builder's forms together: the settings form and the question formset, and the test and
    documents they make once valid (``problems`` then lists what MTurk would refuse).

    With ``add_question``, the posted values are shown again, unvalidated, with one blank question
    more and without the questions ticked for removal: adding a question is not a save."""

    __test__ = False  # not a pytest test class, whatever its name

    SETTINGS_PREFIX = "test"
    QUESTIONS_PREFIX = "questions"

    def __init__(
        self,
        qualification_type: QualificationType,
        data: Any = None,
        *,
        test: QualificationTest | None = None,
        add_question: bool = False,
    ) -> None:
        self.qualification_type = qualification_type
        self.problems: list[str] = []
        self.test: QualificationTest | None = None
        self.documents: TestDocuments | None = None
        if data is not None and not add_question:
            self.settings = TestSettingsForm(data, prefix=self.SETTINGS_PREFIX)
            self.questions = QuestionFormSet(data, prefix=self.QUESTIONS_PREFIX)
            return
        if data is not None:
            posted = QuestionFormSet(data, prefix=self.QUESTIONS_PREFIX)
            kept = [
                _initial_from_data(form, data)
                for form in (posted.forms if posted.management_form.is_valid() else [])
                if not form.fields["DELETE"].widget.value_from_datadict(
                    data, {}, form.add_prefix("DELETE")
                )
            ]
            blank = {"kind": QuestionKind.SINGLE.value, "required": True}
            initial = [{k: v for k, v in q.items() if k != "DELETE"} for q in kept] + [blank]
            settings_form = TestSettingsForm(prefix=self.SETTINGS_PREFIX)
            settings = _initial_from_data(settings_form, data)
        else:
            questions = test.questions if test is not None else ()
            initial = [question_initial(question) for question in questions] or [
                {"kind": QuestionKind.SINGLE.value, "required": True}
            ]
            settings = settings_initial(test, qualification_type.test_duration_seconds)
            settings["scoring"] = scoring_initial(qualification_type)
        self.settings = TestSettingsForm(initial=settings, prefix=self.SETTINGS_PREFIX)
        self.questions = QuestionFormSet(initial=initial, prefix=self.QUESTIONS_PREFIX)

    def is_valid(self) -> bool:
        if not (self.settings.is_bound and self.questions.is_bound):
            return False
        # Both, so that every error of the page shows at once.
        valid = self.settings.is_valid() & self.questions.is_valid()
        if not valid:
            return False
        self.test, self.documents = builder_documents(self.settings, self.questions)
        self.problems = test_problems(self.qualification_type, self.documents)
        return not self.problems


class EditorActionForm(forms.Form):
    """Which button of the editor was pressed."""

    action = forms.ChoiceField(
        choices=[
            ("add_question", "Add a question"),
            ("save", "Save the test"),
            ("save_raw", "Save the XML"),
            ("preview", "Preview"),
            ("preview_raw", "Preview the XML"),
        ]
    )


class EditorModeForm(forms.Form):
    """Which tab of the editor a GET shows."""

    mode = forms.ChoiceField(choices=[("form", "Form"), ("raw", "XML")], required=False)


def builder_errors(builder: TestBuilder) -> list[str]:
    """Every error of the builder's forms as one line each, saying where it is."""
    errors = [str(error) for error in builder.settings.non_field_errors()]
    for name, field_errors in builder.settings.errors.items():
        if name != "__all__":
            label = builder.settings.fields[name].label or name
            errors += [f"{label}: {error}" for error in field_errors]
    errors += [str(error) for error in builder.questions.non_form_errors()]
    for number, form in enumerate(builder.questions.forms, 1):
        if getattr(form, "cleaned_data", {}).get("DELETE"):
            continue
        for name, field_errors in form.errors.items():
            label = "" if name == "__all__" else f" {form.fields[name].label or name}"
            errors += [f"Question {number}{label}: {error}" for error in field_errors]
    return errors + builder.problems
