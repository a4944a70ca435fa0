"""The publish form: the batch's label, template, HIT type settings, requirements and inputs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms

from dashboard.models import RequesterAccount
from mturk import review_policies
from mturk.notifications import ALL_EVENT_TYPES, DEFAULT_EVENT_TYPES
from people.models import StudyGroup
from publishing.estimate import split_assignments
from publishing.inputs import MAX_BYTES
from publishing.models import QuestionTemplate, RequirementPreset
from publishing.publish import MIN_REWARD, notification_choice

DAY = 86400
# The form field a known answer is for, unless the form names another.
DEFAULT_QUESTION_ID = "answer"


class PublishForm(forms.Form):
    label = forms.CharField(
        max_length=100, help_text="Written into each HIT's RequesterAnnotation: the batch's name."
    )
    template = forms.ModelChoiceField(queryset=QuestionTemplate.objects.none())
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    keywords = forms.CharField(max_length=1000, required=False)
    reward = forms.CharField(
        max_length=12, help_text=f"Per assignment, in dollars (at least ${MIN_REWARD})."
    )
    max_assignments = forms.IntegerField(
        label="Assignments per item", min_value=1, max_value=1000, initial=1
    )
    assignment_duration_seconds = forms.IntegerField(
        label="Time allotted (seconds)", min_value=30, max_value=365 * DAY, initial=3600
    )
    lifetime_seconds = forms.IntegerField(
        label="Lifetime (seconds)", min_value=30, max_value=365 * DAY, initial=3 * DAY
    )
    auto_approval_delay_seconds = forms.IntegerField(
        label="Auto-approval delay (seconds)", min_value=0, max_value=30 * DAY, initial=3 * DAY
    )
    preset = forms.ModelChoiceField(
        label="Requirement preset", queryset=RequirementPreset.objects.none(), required=False
    )
    exclude_soft_blocked = forms.BooleanField(
        label="Keep the lab's soft-blocked workers out", required=False, initial=True
    )
    study_groups = forms.ModelMultipleChoiceField(
        queryset=StudyGroup.objects.none(),
        required=False,
        help_text="Workers of the groups' other studies are kept out.",
    )
    micro_batching = forms.BooleanField(
        required=False,
        help_text="An item needing 10 or more assignments becomes HITs of at most 9 (MTurk's fee "
        "is 20% instead of 40%); its parts are published one after the other, each kept from the "
        "workers of the earlier ones.",
    )
    inputs = forms.FileField(
        label="Inputs CSV",
        help_text="One row per item; one column per template variable. UTF-8.",
    )

    def __init__(self, *args: object, account: RequesterAccount, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["template"].queryset = QuestionTemplate.objects.filter(account=account)  # type: ignore[attr-defined]
        self.fields["preset"].queryset = RequirementPreset.objects.filter(account=account)  # type: ignore[attr-defined]
        self.fields["study_groups"].queryset = StudyGroup.objects.filter(account=account)  # type: ignore[attr-defined]

    def clean_reward(self) -> Decimal:
        text = self.cleaned_data["reward"].strip().lstrip("$")
        try:
            reward = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError("Give the reward in dollars, e.g. 0.50.") from None
        if not reward.is_finite() or reward != reward.quantize(Decimal("0.01")):
            raise forms.ValidationError("The reward is in whole cents, e.g. 0.50.")
        if reward < MIN_REWARD:
            raise forms.ValidationError(f"MTurk's minimum reward is ${MIN_REWARD}.")
        return reward

    def read_inputs(self) -> bytes:
        # One byte over the cap is enough to know the file is too big, without reading it all.
        return bytes(self.cleaned_data["inputs"].read(MAX_BYTES + 1))

    def hit_settings(self) -> dict[str, object]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "keywords": data["keywords"],
            "reward": str(data["reward"]),
            "max_assignments": data["max_assignments"],
            "assignment_duration_seconds": data["assignment_duration_seconds"],
            "lifetime_seconds": data["lifetime_seconds"],
            "auto_approval_delay_seconds": data["auto_approval_delay_seconds"],
        }


class PublishConfirmForm(forms.Form):
    """The confirmation page's own token (dashboard.confirmations); the typed name of a live
    account is dashboard.forms.LiveAccountConfirmForm's."""

    confirmation = forms.CharField(max_length=100, widget=forms.HiddenInput)


class ReviewPoliciesForm(forms.Form):
    """The publish form's optional review policies (its own fieldset, prefix "policy"): MTurk
    scores, and may approve or reject, the work itself. A policy is on when its first field is
    filled. mturk.review_policies checks the settings; the publish form's assignments per item
    are checked by `check_assignments`."""

    answer_column = forms.CharField(
        label="Known-answer column",
        max_length=200,
        required=False,
        help_text="ScoreMyKnownAnswers: the inputs column holding each item's correct answer. It "
        "is not shown to workers; every row needs a value.",
    )
    answer_question_id = forms.CharField(
        label="Question the answer is for",
        max_length=255,
        required=False,
        initial=DEFAULT_QUESTION_ID,
        help_text="The name of the form field in the question whose answer is scored (blank: "
        f"“{DEFAULT_QUESTION_ID}”).",
    )
    known_approve_at = forms.IntegerField(
        label="Approve if the known-answer score is at least (%)",
        min_value=0,
        max_value=100,
        required=False,
    )
    known_approve_reason = forms.CharField(
        label="Approval message", max_length=1024, required=False
    )
    known_reject_below = forms.IntegerField(
        label="Reject if the known-answer score is below (%)",
        min_value=0,
        max_value=100,
        required=False,
    )
    known_reject_reason = forms.CharField(
        label="Rejection reason (known answers)", max_length=1024, required=False
    )
    plurality_question_ids = forms.CharField(
        label="Plurality: questions that should agree",
        max_length=2000,
        required=False,
        help_text="SimplePlurality: form field names, separated by commas. Needs 2 or more "
        "assignments per HIT.",
    )
    plurality_threshold = forms.IntegerField(
        label="Agreement threshold (%)",
        min_value=0,
        max_value=100,
        required=False,
        help_text="A question's answer counts as agreed when more than this share of workers "
        "gave it.",
    )
    plurality_approve_at = forms.IntegerField(
        label="Approve if the worker's agreement score is at least (%)",
        min_value=0,
        max_value=100,
        required=False,
    )
    plurality_reject_below = forms.IntegerField(
        label="Reject if the worker's agreement score is below (%)",
        min_value=0,
        max_value=100,
        required=False,
    )
    plurality_reject_reason = forms.CharField(
        label="Rejection reason (plurality)", max_length=1024, required=False
    )

    # Which field a problem from mturk.review_policies belongs to, by its first words.
    _KNOWN_FIELDS = (
        ("Name the inputs column", "answer_column"),
        ("The known-answer column", "answer_column"),
        ("Name the question", "answer_question_id"),
        ("A question id", "answer_question_id"),
        ("Rejecting below", "known_reject_below"),
    )
    _PLURALITY_FIELDS = (
        ("Name at least one question", "plurality_question_ids"),
        ("A question id", "plurality_question_ids"),
        ("Give the agreement threshold", "plurality_threshold"),
        ("Rejecting below", "plurality_reject_below"),
        ("Plurality compares", "plurality_question_ids"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "policy")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def _add(self, problems: list[str], fields: tuple[tuple[str, str], ...]) -> None:
        for problem in problems:
            name = next((f for start, f in fields if problem.startswith(start)), None)
            self.add_error(name, problem)

    def known_answers(self) -> dict[str, object] | None:
        data = self.cleaned_data
        column = (data.get("answer_column") or "").strip()
        orphans = [
            data.get(name) not in (None, "")
            for name in (
                "known_approve_at",
                "known_reject_below",
                "known_approve_reason",
                "known_reject_reason",
            )
        ]
        if not column and not any(orphans):
            return None
        return {
            "column": column,
            "question_id": (data.get("answer_question_id") or "").strip() or DEFAULT_QUESTION_ID,
            "approve_at": data.get("known_approve_at"),
            "approve_reason": (data.get("known_approve_reason") or "").strip(),
            "reject_below": data.get("known_reject_below"),
            "reject_reason": (data.get("known_reject_reason") or "").strip(),
        }

    def plurality(self) -> dict[str, object] | None:
        data = self.cleaned_data
        ids = review_policies.parse_question_ids(data.get("plurality_question_ids") or "")
        others = [
            data.get(name) not in (None, "")
            for name in (
                "plurality_threshold",
                "plurality_approve_at",
                "plurality_reject_below",
                "plurality_reject_reason",
            )
        ]
        if not ids and not any(others):
            return None
        return {
            "question_ids": ids,
            "agreement_threshold": data.get("plurality_threshold"),
            "approve_at": data.get("plurality_approve_at"),
            "reject_below": data.get("plurality_reject_below"),
            "reject_reason": (data.get("plurality_reject_reason") or "").strip(),
        }

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if self.errors:
            return data
        known = self.known_answers()
        if known is not None:
            # The template's variables are checked with the inputs (publishing.publish).
            self._add(
                review_policies.known_answers_problems(known, variables=[]), self._KNOWN_FIELDS
            )
        plurality = self.plurality()
        if plurality is not None:
            # Assignments per HIT come from the publish form: `check_assignments`.
            problems = review_policies.plurality_problems(plurality, assignments_per_hit=[2])
            self._add(problems, self._PLURALITY_FIELDS)
        return data

    def check_assignments(self, *, max_assignments: int, micro_batching: bool) -> bool:
        """Refuse SimplePlurality on HITs of one assignment (as the batch would make them)."""
        plurality = self.plurality() if self.is_valid() else None
        if plurality is None:
            return self.is_valid()
        problems = [
            p
            for p in review_policies.plurality_problems(
                plurality,
                assignments_per_hit=split_assignments(
                    max_assignments, micro_batching=micro_batching
                ),
            )
            if p.startswith("Plurality compares")
        ]
        self._add(problems, self._PLURALITY_FIELDS)
        return not problems

    @staticmethod
    def initial_from(policies: dict[str, Any]) -> dict[str, object]:
        """The fields' values for a batch's review_policies (copying a study), the reverse of
        `policies`."""
        known = policies.get("known_answers") or {}
        plurality = policies.get("plurality") or {}
        values = {
            "answer_column": known.get("column"),
            "answer_question_id": known.get("question_id"),
            "known_approve_at": known.get("approve_at"),
            "known_approve_reason": known.get("approve_reason"),
            "known_reject_below": known.get("reject_below"),
            "known_reject_reason": known.get("reject_reason"),
            "plurality_question_ids": ", ".join(plurality.get("question_ids") or []),
            "plurality_threshold": plurality.get("agreement_threshold"),
            "plurality_approve_at": plurality.get("approve_at"),
            "plurality_reject_below": plurality.get("reject_below"),
            "plurality_reject_reason": plurality.get("reject_reason"),
        }
        return {name: value for name, value in values.items() if value not in (None, "")}

    def policies(self) -> dict[str, object]:
        """The batch's review_policies (mturk.review_policies' shape)."""
        found = {"known_answers": self.known_answers(), "plurality": self.plurality()}
        return {key: value for key, value in found.items() if value is not None}


# --- the batch's notifications (a form of its own, rendered as its own section) ---

NO_NOTIFICATIONS = ""


class PublishNotificationForm(forms.Form):
    """Which events the batch's HIT type sends, and to which of the account's destinations
    (UpdateNotificationSettings once the HIT type exists). Only the transport is chosen: the queue
    URL or topic ARN is the account's, read on the server."""

    transport = forms.ChoiceField(
        label="Send the HIT type's events to",
        required=False,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose none or one of the destinations the account has (its SQS "
            "queue or SNS topic are set in the account's settings)."
        },
    )
    event_types = forms.MultipleChoiceField(
        label="Events",
        required=False,
        choices=[(name, name) for name in ALL_EVENT_TYPES],
        initial=DEFAULT_EVENT_TYPES,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: object, account: RequesterAccount, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "notify")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.account = account
        choices = [(NO_NOTIFICATIONS, "None (the scheduled sync finds the changes)")]
        if account.sqs_queue_url:
            choices.append(("SQS", f"The account's SQS queue ({account.sqs_queue_url})"))
        if account.sns_topic_arn:
            choices.append(("SNS", f"The account's SNS topic ({account.sns_topic_arn})"))
        self.fields["transport"].choices = choices  # type: ignore[attr-defined]
        self.fields["transport"].initial = NO_NOTIFICATIONS
        # Neither destination: only "none" is offered, and the section says why.
        self.has_destinations = len(choices) > 1

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("transport") and not data.get("event_types"):
            self.add_error("event_types", "Choose at least one event to send, or send none.")
        return data

    def notification(self) -> dict[str, object]:
        """What the batch keeps ({} for none), the destination taken from the account."""
        data = self.cleaned_data
        transport = data.get("transport") or NO_NOTIFICATIONS
        chosen = [name for name in ALL_EVENT_TYPES if name in data.get("event_types", [])]
        return notification_choice(account=self.account, transport=transport, event_types=chosen)


class CopySourceForm(forms.Form):
    """The study a new batch copies, named in the publish form's URL; only looked up, in the
    account's own records, to fill the form's initial values."""

    copy_batch = forms.IntegerField(required=False, min_value=1)
    copy_hit_type = forms.CharField(required=False, max_length=64)
