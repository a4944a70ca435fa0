"""Decisions MTurk will not take, refused before anything is sent, the same way everywhere (inline,
in bulk, from an uploaded file, on the HIT page):

- on a HIT deleted at MTurk (disposed in our mirror): OverrideRejection works "only if the
  assignment's related HIT has not been deleted", and DeleteHIT needs every assignment decided;
- on a HIT published from the Requester website (`BatchId:<n>`): the API reference says its work
  must be approved or rejected in the Requester website.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from hits.enums import AssignmentStatus, BatchSource, DecisionAction
from hits.models import Batch, Decision
from hits.rules import FROM_REQUESTER_WEBSITE, HIT_DELETED
from hits.services import decide_one, decision_statuses, plan_bulk_decision, refusal
from hits.upload_plan import parse_decisions_csv
from tests.factories import AssignmentFactory

pytestmark = pytest.mark.django_db


def _rejected(account, **hit):
    """A rejected assignment, submitted just now, on a HIT with the given fields."""
    if "hit_type" not in hit:
        hit["hit_type__account"] = account
    return AssignmentFactory(
        status=AssignmentStatus.REJECTED,
        rejection_time=timezone.now(),
        **{f"hit__{key}": value for key, value in hit.items()},
    )


def _from_the_website(account, status=AssignmentStatus.SUBMITTED):
    assignment = AssignmentFactory(
        hit__hit_type__account=account, hit__annotation="BatchId:4567890;row:3", status=status
    )
    hit = assignment.hit
    hit.batch = Batch.objects.create(
        account=account,
        hit_type=hit.hit_type,
        key="BatchId:4567890",
        name="Batch 4567890",
        source=BatchSource.REQUESTER_WEBSITE,
    )
    hit.save(update_fields=["batch"])
    return assignment


# --- A deleted HIT --------------------------------------------------------------------------------


def test_undoing_a_rejection_is_refused_once_the_hit_is_deleted(account, staff_user):
    alive = _rejected(account)
    deleted = _rejected(account, disposed_at=timezone.now(), status="Disposed")

    assert refusal(alive, DecisionAction.OVERRIDE) is None
    assert refusal(deleted, DecisionAction.OVERRIDE) == HIT_DELETED
    message = decide_one(
        account=account,
        assignment=deleted,
        action=DecisionAction.OVERRIDE,
        feedback="",
        requested_by=staff_user,
    )
    assert message == f"Not done: {HIT_DELETED}."
    assert not Decision.objects.filter(assignment=deleted).exists()
    alive_status, deleted_status = decision_statuses([alive, deleted])
    assert alive_status.can_override and not deleted_status.can_override
    assert deleted_status.blocked == HIT_DELETED


def test_a_bulk_undo_skips_rejections_on_deleted_hits(account):
    alive = _rejected(account)
    deleted = _rejected(account, hit_type=alive.hit_type, disposed_at=timezone.now())

    plan = plan_bulk_decision(
        hit_type=alive.hit_type,
        action=DecisionAction.OVERRIDE,
        scope="selected",
        selected=[alive.assignment_id, deleted.assignment_id],
        filters={},
    )

    assert list(plan.actionable) == [alive] and (plan.count, plan.skipped) == (1, 1)


def test_the_hit_page_offers_no_undo_on_a_deleted_hit(staff_client, account):
    deleted = _rejected(account, disposed_at=timezone.now())

    page = staff_client.get(
        reverse("hit-detail", kwargs={"slug": account.slug, "hit_id": deleted.hit.hit_id})
    ).content.decode()

    assert "Undo rejection" not in page and HIT_DELETED in page


# --- A HIT from the Requester website ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (AssignmentStatus.SUBMITTED, DecisionAction.APPROVE),
        (AssignmentStatus.SUBMITTED, DecisionAction.REJECT),
        (AssignmentStatus.REJECTED, DecisionAction.OVERRIDE),
    ],
)
def test_requester_website_hits_are_not_decided_here(account, staff_user, status, action):
    assignment = _from_the_website(account, status)
    if status == AssignmentStatus.REJECTED:
        assignment.submit_time = timezone.now()
        assignment.save()

    assert refusal(assignment, action) == FROM_REQUESTER_WEBSITE
    message = decide_one(
        account=account,
        assignment=assignment,
        action=action,
        feedback="Wrong animal",
        requested_by=staff_user,
    )
    assert message == f"Not done: {FROM_REQUESTER_WEBSITE}."
    assert not Decision.objects.exists()


def test_bulk_decisions_skip_requester_website_hits(account):
    website = _from_the_website(account)
    ours = AssignmentFactory(hit__hit_type=website.hit_type, hit__annotation="batch:pilot")

    plan = plan_bulk_decision(
        hit_type=website.hit_type,
        action=DecisionAction.APPROVE,
        scope="selected",
        selected=[website.assignment_id, ours.assignment_id],
        filters={},
    )

    assert list(plan.actionable) == [ours] and (plan.count, plan.skipped) == (1, 1)


def test_an_uploaded_file_lists_requester_website_rows_apart(account):
    website = _from_the_website(account)
    ours = AssignmentFactory(hit__hit_type=website.hit_type)
    data = (
        f"AssignmentId,Approve,Reject\r\n{website.assignment_id},X,\r\n{ours.assignment_id},X,\r\n"
    ).encode()

    plan = parse_decisions_csv(account=account, data=data)

    assert [row.assignment_id for row in plan.rows] == [ours.assignment_id]
    assert [issue.assignment_id for issue in plan.elsewhere] == [website.assignment_id]
    assert "Requester website" in plan.elsewhere[0].message


def test_the_decision_cell_says_where_to_decide(staff_client, account):
    assignment = _from_the_website(account)
    url = reverse(
        "assignment-status",
        kwargs={"slug": account.slug, "assignment_id": assignment.assignment_id},
    )

    cell = staff_client.get(url).content.decode()
    refused = staff_client.post(
        reverse(
            "assignment-decide",
            kwargs={"slug": account.slug, "assignment_id": assignment.assignment_id},
        ),
        {"action": "approve"},
        HTTP_HX_REQUEST="true",
    ).content.decode()

    assert FROM_REQUESTER_WEBSITE in cell and 'value="approve"' not in cell
    assert FROM_REQUESTER_WEBSITE in refused and not Decision.objects.exists()


def test_other_accounts_staff_cannot_reach_the_cell(other_staff_client, account):
    assignment = _from_the_website(account)
    url = reverse(
        "assignment-status",
        kwargs={"slug": account.slug, "assignment_id": assignment.assignment_id},
    )

    assert other_staff_client.get(url).status_code == 404
