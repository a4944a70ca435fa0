"""What Django's error reports (the DEBUG page, the admins' e-mails) may show of a request."""

from __future__ import annotations

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class SensitiveAlwaysHiddenFilter(SafeExceptionReporterFilter):
    """Hides what `sensitive_variables` and `sensitive_post_parameters` mark, with DEBUG on too.

    Django's own filter steps aside when DEBUG is on, so the technical 500 page would print a
    lab's AWS secret access key (a local of `save_account`, a POST field of the account form) to
    whoever triggered the error: on a demo or staging machine run with DEBUG=true that is anyone
    who can reach it. Settings whose names look secret are hidden either way.
    """

    def is_active(self, request: HttpRequest | None) -> bool:
        return True
