"""Forms of the message pages: saved templates, composing a message, confirming it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from dashboard.forms import typed_field
from dashboard.models import RequesterAccount
from hits.models import HITType
from people.models import MAX_MESSAGE, MAX_SUBJECT, MessageTemplate
from people.services import messaging

PLACEHOLDER_HELP = "Placeholders: " + ", ".join(
    f"{{{name}}} ({meaning})" for name, meaning in messaging.PLACEHOLDERS.items()
)


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        help_texts = {"subject": PLACEHOLDER_HELP, "body": PLACEHOLDER_HELP}

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        others = MessageTemplate.objects.filter(account=self.account, name=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("A template with this name exists already.")
        return name

    def clean_subject(self) -> str:
        subject: str = self.cleaned_data["subject"]
        for problem in messaging.placeholder_problems(subject):
            self.add_error("subject", problem)
        return subject

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        for problem in messaging.placeholder_problems(body):
            self.add_error("body", problem)
        return body


class ComposeForm(forms.Form):
    """Who gets the message (pasted ids and/or a CSV with a WorkerId column) and what it says (a
    saved template, or a subject and body written here)."""

    worker_ids = forms.CharField(
        required=False,
        label="Worker ids",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line (commas or spaces work too).",
    )
    worker_file = forms.FileField(
        required=False,
        label="Or a CSV file with a WorkerId column",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    study = forms.ModelChoiceField(
        queryset=HITType.objects.none(),
        required=False,
        help_text="Needed for {study_title}.",
    )
    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.none(),
        required=False,
        help_text="Its subject and body are used where you leave those empty.",
    )
    subject = forms.CharField(
        required=False, max_length=MAX_SUBJECT * 4, help_text=PLACEHOLDER_HELP
    )
    body = forms.CharField(
        required=False,
        max_length=MAX_MESSAGE * 4,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Subject at most 200 and text at most 4,096 characters once rendered.",
    )

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        typed_field(self, "study", forms.ModelChoiceField).queryset = HITType.objects.filter(
            account=account
        ).order_by("title")
        typed_field(self, "template", forms.ModelChoiceField).queryset = messaging.templates_for(
            account
        )
        self.workers: list[str] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        workers, problems = messaging.parse_worker_ids(cleaned.get("worker_ids") or "")
        for problem in problems[:20]:
            self.add_error("worker_ids", problem)
        upload: UploadedFile | None = cleaned.get("worker_file")
        if upload is not None:
            from_file, file_problems = messaging.parse_worker_csv(
                upload.read(messaging.MAX_CSV_BYTES + 1)
            )
            for problem in file_problems[:20]:
                self.add_error("worker_file", problem)
            if len(file_problems) > 20:
                self.add_error("worker_file", f"… and {len(file_problems) - 20} more problems.")
            workers = list(dict.fromkeys([*workers, *from_file]))
        if not workers and not self.errors:
            self.add_error("worker_ids", "Give at least one worker id, or a file of them.")
        self.workers = workers
        template: MessageTemplate | None = cleaned.get("template")
        if template is not None:
            cleaned["subject"] = cleaned.get("subject") or template.subject
            cleaned["body"] = cleaned.get("body") or template.body
        # Browsers post a textarea's line breaks as CRLF, and an HTML parser reads them back from
        # the preview page's hidden input as LF: one form throughout, so the token's binding holds.
        for name in ("subject", "body"):
            cleaned[name] = normalise_newlines(cleaned.get(name) or "")
        for name in ("subject", "body"):
            if not (cleaned.get(name) or "").strip():
                self.add_error(name, "Write it here, or choose a template.")
            else:
                for problem in messaging.placeholder_problems(cleaned[name]):
                    self.add_error(name, problem)
        return cleaned


class SendMessageForm(forms.Form):
    """What the preview page showed, posted back with its one-time token."""

    workers = forms.CharField(widget=forms.HiddenInput)
    subject = forms.CharField(max_length=MAX_SUBJECT * 4, widget=forms.HiddenInput)
    body = forms.CharField(max_length=MAX_MESSAGE * 4, widget=forms.HiddenInput, strip=False)
    template = forms.ModelChoiceField(
        queryset=MessageTemplate.objects.none(), required=False, widget=forms.HiddenInput
    )
    study = forms.ModelChoiceField(
        queryset=HITType.objects.none(), required=False, widget=forms.HiddenInput
    )
    confirmation = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, account: RequesterAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        typed_field(self, "study", forms.ModelChoiceField).queryset = HITType.objects.filter(
            account=account
        )
        typed_field(self, "template", forms.ModelChoiceField).queryset = messaging.templates_for(
            account
        )

    def clean_subject(self) -> str:
        return normalise_newlines(self.cleaned_data["subject"])

    def clean_body(self) -> str:
        return normalise_newlines(self.cleaned_data["body"])

    def clean_workers(self) -> list[str]:
        workers, problems = messaging.parse_worker_ids(self.cleaned_data["workers"])
        if problems or not workers:
            raise forms.ValidationError("The list of workers is not valid: compose it again.")
        return workers
