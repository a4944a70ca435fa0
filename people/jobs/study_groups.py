"""Carrying out a study group's exclusion job in the worker."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import JobFailed, Progress
from dashboard.models import Job
from dashboard.mturk_access import account_gateway
from people.models import StudyGroup
from people.services.study_groups import record_exclusions
from qualifications.jobs import send_grant
from qualifications.models import QualificationGrant


def carry_out_group_exclusion(job: Job, progress: Progress) -> dict[str, Any]:
    """Make the group's type if needed, record the grants (again after a crash: only what is
    missing), and send them at the account's rate."""
    group = (
        StudyGroup.objects.select_related("account", "qualification_type")
        .filter(pk=job.parameters.get("group"), account=job.account)
        .first()
    )
    if group is None:
        raise JobFailed("The study group no longer exists.")
    with account_gateway(job.account) as gateway:
        record_exclusions(group=group, job=job, gateway=gateway)
    counts = carry_out_intents(
        job,
        progress,
        model=QualificationGrant,
        send=send_grant,
        select_related=("qualification_type",),
    )
    return {
        **counts,
        "group": group.pk,
        "url": reverse("study-group-detail", kwargs={"slug": job.account.slug, "pk": group.pk}),
    }
