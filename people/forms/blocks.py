"""Forms of the block pages: one worker, a CSV of workers, ticked rows of the review grid, and
the confirmation of a bulk change."""

from __future__ import annotations

from typing import Any

from django import forms

from people.enums import BlockAction, BlockKind
from people.models import MAX_REASON
from people.services.blocks import MAX_CSV_ROWS, WORKER_ID

MAX_SELECTED = 1000


class ListField(forms.Field):
    """Repeated values of one name (`<input name=x>` many times), as a list of stripped strings."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, max_items: int, max_length: int, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.max_items, self.max_length = max_items, max_length

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        return [str(item).strip() for item in value]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items:,} at a time.")
        if any(len(item) > self.max_length for item in value):
            raise forms.ValidationError(f"A value is longer than {self.max_length} characters.")


def _reason_field() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=MAX_REASON,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_REASON}),
        help_text="Required to block (MTurk keeps it with a hard block; at most 1,024 characters).",
    )


class BlockForm(forms.Form):
    kind = forms.ChoiceField(
        choices=BlockKind.choices, initial=BlockKind.SOFT, widget=forms.RadioSelect
    )
    action = forms.ChoiceField(
        choices=BlockAction.choices, initial=BlockAction.BLOCK, widget=forms.RadioSelect
    )
    reason = _reason_field()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == BlockAction.BLOCK and not data.get("reason"):
            self.add_error("reason", "A block needs a reason.")
        return data


class BlockUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV of workers",
        help_text=(
            "A “WorkerId” column and, optionally, a “Reason” column (rows without one take the "
            f"reason you give next). At most {MAX_CSV_ROWS:,} workers."
        ),
    )


class SelectedAssignmentsForm(forms.Form):
    """What the review grid posts: the ticked assignment ids (other fields are ignored)."""

    selected = ListField(max_items=MAX_SELECTED, max_length=64)


class BulkBlockConfirmForm(BlockForm):
    """The confirmation page's form: the workers it listed (each with the reason from the file, if
    any), what to do, and the page's one-time token."""

    source = forms.ChoiceField(choices=[("grid", "grid"), ("csv", "csv")], widget=forms.HiddenInput)
    worker = ListField(max_items=MAX_CSV_ROWS, max_length=64)
    row_reason = ListField(max_items=MAX_CSV_ROWS, max_length=MAX_REASON)
    confirmation = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        # Not BlockForm's check: a row may bring its own reason.
        data = forms.Form.clean(self) or {}
        workers, reasons = data.get("worker") or [], data.get("row_reason") or []
        if not workers or len(workers) != len(reasons):
            raise forms.ValidationError("The list of workers is missing or malformed.")
        if not all(WORKER_ID.match(worker_id) for worker_id in workers):
            raise forms.ValidationError(
                "The list of workers holds something that is not a worker id."
            )
        if data.get("action") == BlockAction.BLOCK and not data.get("reason") and not all(reasons):
            self.add_error(
                "reason", "A block needs a reason: give one for the workers without their own."
            )
        data["rows"] = list(zip(workers, reasons, strict=True))
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The form's own block checks a reason on `reason` alone; rows may bring their own.
        self.fields[
            "reason"
        ].help_text = (
            "Required to block workers without a reason of their own (at most 1,024 characters)."
        )
