"""One-time confirmation tokens: issued by a confirmation page, spent by the form it renders.

DESIGN: "a form never carries control fields from the query string: a confirmation is its own page
with its own token". So the "yes, do it" of a bulk action (and the typed name of a live account)
counts only when the POST brings back the token of a confirmation page that was rendered for the
same session, user and account, the same purpose, and exactly what the page showed (`binding`: the
rows or the filter, the decision, the feedback...). The token works once and for `MAX_AGE`.

Why rows in a table, rather than `django.core.signing` or an entry in the session: a signed token
cannot remember that it was used, and the session is read and written whole by each request, so two
concurrent posts of one page (a double click, two tabs) would both find the entry unused. A row
spent by a conditional UPDATE is spent exactly once, as intents are claimed (dashboard/intents.py).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from dashboard.http import DashboardRequest
from dashboard.models import Confirmation, Job, RequesterAccount

# Long enough to read a confirmation page and type an account's name; short enough that a page
# left open overnight asks again (the rows may have moved meanwhile).
MAX_AGE = timedelta(minutes=30)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _binding_digest(purpose: str, binding: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"purpose": purpose, "binding": binding},
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )
    return _digest(canonical)


def _session_digest(request: DashboardRequest) -> str:
    key = request.session.session_key
    if key is None:  # a session that was never saved has no key to bind to yet
        request.session.save()
        key = request.session.session_key
    if not key:
        raise RuntimeError("A confirmation needs a session.")
    # Logging in again cycles the key: a token does not outlive the session that saw its page.
    return _digest(key)


def issue(
    request: DashboardRequest,
    *,
    account: RequesterAccount,
    purpose: str,
    binding: Mapping[str, Any],
) -> str:
    """A new token for the confirmation page being rendered (for its hidden input)."""
    now = timezone.now()
    # Tokens nobody used are dropped here rather than by a scheduled task: issuing is rare.
    Confirmation.objects.filter(created_at__lt=now - MAX_AGE).delete()
    token = secrets.token_urlsafe(32)
    Confirmation.objects.create(
        token_digest=_digest(token),
        session_digest=_session_digest(request),
        user=request.user,
        account=account,
        purpose=purpose,
        binding_digest=_binding_digest(purpose, binding),
        created_at=now,
    )
    return token


def consume(
    request: DashboardRequest,
    *,
    token: str,
    account: RequesterAccount,
    purpose: str,
    binding: Mapping[str, Any],
) -> bool:
    """Spend the token if it was issued to this session, user and account for this purpose and
    binding, is unused and has not expired. True exactly once per token; False otherwise.

    Call it in the transaction that records the action: if recording fails, the token stays unspent
    (and while it commits, a concurrent spend of the same row waits and then finds it used)."""
    if not token:
        return False
    now = timezone.now()
    spent = Confirmation.objects.filter(
        token_digest=_digest(token),
        session_digest=_session_digest(request),
        user=request.user,
        account=account,
        purpose=purpose,
        binding_digest=_binding_digest(purpose, binding),
        used_at__isnull=True,
        created_at__gte=now - MAX_AGE,
    ).update(used_at=now)
    return spent == 1


@dataclass(frozen=True)
class Started:
    """What `start_once` came to: the job carrying the action out (new, or the one an earlier post
    of the same page started), or why nothing was started."""

    job: Job | None
    problem: str = ""


def start_once(
    request: DashboardRequest,
    *,
    token: str,
    account: RequesterAccount,
    purpose: str,
    binding: Mapping[str, Any],
    start: Callable[[], Job],
    first_job: Callable[[], Job | None],
    refused: tuple[type[Exception], ...] = (),
    not_done: str = "Nothing was done",
) -> Started:
    """Carry out a confirmed action exactly once: spend the token and `start` the job in one
    transaction (if recording fails, the token stays unspent). A post whose token is already spent
    (a double submit) gets the job of the post that spent it, read by `first_job`; an exception of
    a `refused` type becomes the problem shown."""
    try:
        with transaction.atomic():
            confirmed = consume(
                request, token=token, account=account, purpose=purpose, binding=binding
            )
            job = start() if confirmed else None
    except refused as exc:
        return Started(None, str(exc))
    if job is None:
        job = first_job()
    if job is not None:
        return Started(job)
    return Started(
        None,
        f"{not_done}: this confirmation is no longer valid (used already or expired). Check "
        "what is below and confirm again.",
    )
