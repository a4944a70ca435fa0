"""Forms of the mirror's pages: sync now, notification settings, a test event."""

from __future__ import annotations

from typing import Any

from django import forms

from dashboard.enums import SyncKind
from dashboard.forms import typed_field
from dashboard.models import RequesterAccount
from mturk.notifications import ALL_EVENT_TYPES, DEFAULT_EVENT_TYPES


class SyncNowForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            (SyncKind.REVIEWABLE.value, SyncKind.REVIEWABLE.label),
            (SyncKind.FULL.value, SyncKind.FULL.label),
        ],
        initial=SyncKind.REVIEWABLE.value,
    )


TRANSPORTS = [("SQS", "SQS queue"), ("SNS", "SNS topic (webhook)")]


class NotificationSettingsForm(forms.Form):
    """Which HIT types send which events where (UpdateNotificationSettings)."""

    hit_type_ids = forms.MultipleChoiceField(label="HIT types", widget=forms.CheckboxSelectMultiple)
    transport = forms.ChoiceField(choices=TRANSPORTS)
    event_types = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        typed_field(self, "hit_type_ids", forms.ChoiceField).choices = [
            (ht.hit_type_id, f"{ht.title or ht.hit_type_id} ({ht.hit_type_id})")
            for ht in account.hit_types.order_by("title")
        ]
        typed_field(self, "event_types", forms.ChoiceField).choices = [
            (name, name) for name in ALL_EVENT_TYPES
        ]
        typed_field(self, "event_types", forms.ChoiceField).initial = DEFAULT_EVENT_TYPES

    def clean_transport(self) -> str:
        transport = self.cleaned_data["transport"]
        if transport == "SQS" and not self.account.sqs_queue_url:
            raise forms.ValidationError("Set the account's SQS queue URL first (account settings).")
        if transport == "SNS" and not self.account.sns_topic_arn:
            raise forms.ValidationError(
                "Set the account's SNS topic ARN first (account settings, or wire the emulator below)."
            )
        return transport


class TestEventForm(forms.Form):
    transport = forms.ChoiceField(choices=TRANSPORTS)
    event_type = forms.ChoiceField(
        choices=[
            (name, name)
            for name in ["Ping", "AssignmentSubmitted", "AssignmentAccepted", "HITReviewable"]
        ],
        initial="Ping",
    )

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_transport(self) -> str:
        transport = self.cleaned_data["transport"]
        if transport == "SQS" and not self.account.sqs_queue_url:
            raise forms.ValidationError("The account has no SQS queue URL.")
        if transport == "SNS" and not self.account.sns_topic_arn:
            raise forms.ValidationError("The account has no SNS topic ARN.")
        return transport
