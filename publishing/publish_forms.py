"""The publish form: the batch's label, template, HIT type settings, requirements and inputs."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from dashboard.models import RequesterAccount
from mturk.notifications import ALL_EVENT_TYPES, DEFAULT_EVENT_TYPES
from people.models import StudyGroup
from publishing.inputs import MAX_BYTES
from publishing.models import QuestionTemplate, RequirementPreset
from publishing.publish import MIN_REWARD, notification_choice

DAY = 86400


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
