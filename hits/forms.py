from __future__ import annotations

from typing import Any

from django import forms
from django.utils.datastructures import MultiValueDict

from dashboard.forms import typed_field
from hits.enums import AssignmentStatus, DecisionAction
from hits.models import Batch, HITType
from hits.rules import MAX_FEEDBACK

PAGE_SIZES = [(25, "25"), (100, "100"), (500, "500")]
GRID_SORTS = [
    ("-submit_time", "Newest first"),
    ("submit_time", "Oldest first"),
    ("work_time_seconds", "Fastest first"),
    ("-work_time_seconds", "Slowest first"),
    ("worker__worker_id", "Worker"),
    ("hit__hit_id", "HIT"),
]


class GridFilterForm(forms.Form):
    """Filters of the review grid (all optional; read from the query string)."""

    status = forms.MultipleChoiceField(
        choices=AssignmentStatus.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    worker = forms.CharField(required=False, max_length=64, label="Worker id")
    submitted_after = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    submitted_before = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    work_time_min = forms.IntegerField(required=False, min_value=0, label="Work time at least (s)")
    work_time_max = forms.IntegerField(required=False, min_value=0, label="Work time at most (s)")
    disagrees = forms.BooleanField(required=False, label="Disagrees with the majority")
    contains = forms.CharField(required=False, max_length=200, label="Answer contains")
    sort = forms.ChoiceField(choices=GRID_SORTS, required=False)
    page_size = forms.TypedChoiceField(
        choices=PAGE_SIZES,
        coerce=int,
        required=False,
        empty_value=25,  # type: ignore[arg-type]  # Django takes any value; the stubs say str
    )

    batch = forms.ModelChoiceField(
        queryset=Batch.objects.none(), required=False, empty_label="Every batch"
    )

    field_order = ["batch"]

    def __init__(self, *args: Any, hit_type: HITType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        batches = hit_type.batches.order_by("-first_seen_at", "-pk")
        if batches.exists():
            typed_field(self, "batch", forms.ModelChoiceField).queryset = batches
        else:  # most studies have no batches: no empty choice to show
            del self.fields["batch"]

    def echoed(self) -> list[tuple[str, str]]:
        """The submitted values of this form's own fields, as (name, value) pairs for hidden
        inputs: the bulk form and the confirmation page carry the filter, and nothing else of the
        query string (a crafted link must not add rows, `go` or a typed account name)."""
        if not self.is_bound or not isinstance(self.data, MultiValueDict):
            return []
        return [(name, value) for name in self.fields for value in self.data.getlist(name)]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        low, high = cleaned.get("work_time_min"), cleaned.get("work_time_max")
        if low is not None and high is not None and low > high:
            self.add_error("work_time_max", "Must be at least the minimum.")
        return cleaned


class StudyFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Title contains")
    sort = forms.ChoiceField(
        choices=[
            ("-first_seen_at", "Newest"),
            ("title", "Title"),
            ("-n_submitted", "Most to review"),
        ],
        required=False,
    )


class BatchFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Batch or study contains")
    sort = forms.ChoiceField(
        choices=[
            ("-first_seen_at", "Newest"),
            ("name", "Name"),
            ("-n_submitted", "Most to review"),
        ],
        required=False,
    )


class HITFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="HIT id, title or annotation")
    status = forms.ChoiceField(
        choices=[
            ("", "Any status"),
            ("Assignable", "Assignable"),
            ("Unassignable", "Unassignable"),
            ("Reviewable", "Reviewable"),
            ("Reviewing", "Reviewing"),
            ("Disposed", "Disposed"),
        ],
        required=False,
    )
    sort = forms.ChoiceField(
        choices=[
            ("-created_at_mturk", "Newest"),
            ("created_at_mturk", "Oldest"),
            ("expires_at", "Expiring first"),
            ("-assignments_pending", "Most working"),
            ("-assignments_available", "Most open"),
        ],
        required=False,
    )


class DecisionForm(forms.Form):
    """One inline decision. A rejection needs a reason: typed, or one of the saved ones."""

    action = forms.ChoiceField(choices=DecisionAction.choices)
    feedback = forms.CharField(
        required=False, max_length=MAX_FEEDBACK, widget=forms.Textarea(attrs={"rows": 2})
    )
    saved_reason = forms.IntegerField(required=False, min_value=1)
    save_reason = forms.BooleanField(required=False, label="Save this reason for later")

    def __init__(self, *args: Any, reasons: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reasons = reasons

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        reason_id = cleaned.get("saved_reason")
        if reason_id and self.reasons is not None:
            reason = self.reasons.filter(pk=reason_id).first()
            if reason is None:
                self.add_error("saved_reason", "Unknown saved reason.")
            elif not (cleaned.get("feedback") or "").strip():
                cleaned["feedback"] = reason.text.strip()
        if (
            cleaned.get("action") == DecisionAction.REJECT
            and not (cleaned.get("feedback") or "").strip()
        ):
            self.add_error("feedback", "A rejection needs a reason: MTurk shows it to the worker.")
        return cleaned


class BulkDecisionForm(DecisionForm):
    """A decision for many assignments: the ticked rows, or every row matching the filter."""

    scope = forms.ChoiceField(
        choices=[("selected", "Selected rows"), ("matching", "Every row matching the filter")]
    )
    selected = forms.MultipleChoiceField(
        required=False, choices=[]
    )  # filled from the posted values
    # Set by the confirmation page's button: record the decisions now (else: show what they do).
    # It counts only with the page's one-time token (`confirmation`; see hits.views.bulk_decide).
    go = forms.BooleanField(required=False, widget=forms.HiddenInput)
    confirmation = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        posted = self.data.getlist("selected") if hasattr(self.data, "getlist") else []
        typed_field(self, "selected", forms.ChoiceField).choices = [
            (value, value) for value in posted
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("scope") == "selected" and not cleaned.get("selected"):
            self.add_error(
                "selected", "Tick at least one row, or choose every row matching the filter."
            )
        return cleaned

    def echoed(self) -> list[tuple[str, str]]:
        """What the confirmation page posts back, as (name, value) pairs for hidden inputs: the
        decision as understood (a saved reason already turned into its text), never `go`, the
        token or a typed name, which come from the confirmation page's own controls."""
        data = self.cleaned_data
        pairs = [
            ("scope", data["scope"]),
            ("action", data["action"]),
            ("feedback", data["feedback"]),
        ]
        if data["scope"] == "selected":
            pairs += [("selected", value) for value in data["selected"]]
        return pairs


class ColumnsForm(forms.Form):
    """Which answer columns the grid shows, and in which order (`position_<name>`, optional).

    A position is blank (the column goes after the numbered ones) or a whole number from 1 to 999,
    as the page's number inputs allow. Anything else ("²", "-1", "abc", a thousand digits) can only
    come from a hand-made request, and is refused as a whole with a message (a 400): ignoring it
    would save an order the user did not ask for. (`str.isdigit` is no test: "²" is a digit to it
    and not a number to `int`.)"""

    MAX_POSITION = 999

    columns = forms.MultipleChoiceField(required=False, choices=[])

    def __init__(self, *args: Any, fields: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answer_fields = fields
        typed_field(self, "columns", forms.ChoiceField).choices = [(f, f) for f in fields]
        for name in fields:
            self.fields[f"position_{name}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=self.MAX_POSITION,
                label=f"Position of {name}",
            )

    def problems(self) -> list[str]:
        """Every error, each with the label of its field (after `is_valid()` said False)."""
        return [
            f"{self.fields[name].label or name}: {message}" if name in self.fields else str(message)
            for name, messages in self.errors.items()
            for message in messages
        ]

    def ordered_columns(self) -> list[str]:
        """The chosen columns by their typed position; unnumbered ones last, in field order."""

        def position(name: str) -> tuple[int, int]:
            typed = self.cleaned_data.get(f"position_{name}")
            return (typed if typed is not None else 10_000, self.answer_fields.index(name))

        return sorted(self.cleaned_data["columns"], key=position)


class ResultsUploadForm(forms.Form):
    file = forms.FileField(
        label="Results CSV",
        help_text="The downloaded results, with X in Approve or a reason in Reject.",
    )
