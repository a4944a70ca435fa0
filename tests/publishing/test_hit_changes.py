"""Managing live HITs against the emulator over real HTTP: its truth is the judge. Each change is an
intent with an audit event; MTurk's rules are refused before anything is sent; a bulk job resumed
after a crash adds assignments once; the pages: the allowed and the forbidden path."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard.enums import AuditOutcome, IntentState
from dashboard.intents import claim
from dashboard.jobs import Progress
from dashboard.models import AuditEvent, Job
from hits.models import HIT
from hits.sync import sync_full
from publishing import hit_changes
from publishing.enums import HITChangeAction
from publishing.manage_jobs import carry_out_hit_changes
from publishing.models import HITChange
from tests.hits.test_sync import create_hits, work
from tests.htmlcheck import nested_forms

TOKEN = re.compile(r'name="confirmation" value="([^"]+)"')

pytestmark = pytest.mark.django_db


def emulator_hits(control) -> dict[str, dict]:
    return {hit["HITId"]: hit for hit in control.truth("hits")["hits"]}


@pytest.fixture
def sent(eager_celery, django_capture_on_commit_callbacks):
    """Run what a request enqueues after commit (tasks and jobs), inline."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def change(account, hit_ids, action, user, **parameters):
    plan = hit_changes.plan_change(
        account=account, hit_ids=hit_ids, action=action, parameters=parameters
    )
    return plan, hit_changes.request_changes(account=account, plan=plan, requested_by=user)


# --- Services -------------------------------------------------------------------------------------


def test_adding_assignments_reaches_mturk_the_mirror_and_the_audit_log(
    emulator_account, account_gateway, fresh_emulator, admin_user, sent
):
    [hit_id] = create_hits(account_gateway, 1, max_assignments=3)
    sync_full(account=emulator_account, gateway=account_gateway)

    plan, _ = sent(
        lambda: change(
            emulator_account, [hit_id], HITChangeAction.ADD_ASSIGNMENTS, admin_user, count=2
        )
    )

    # $0.25 reward + 20% fee ($0.05) per assignment, for 2 assignments.
    assert plan.total_cost == Decimal("0.60")
    assert emulator_hits(fresh_emulator.control)[hit_id]["MaxAssignments"] == 5
    assert HIT.objects.get(hit_id=hit_id).max_assignments == 5
    assert HITChange.objects.get().state == IntentState.DONE
    event = AuditEvent.objects.get(action="hit.add_assignments")
    assert (event.outcome, event.actor, event.target_ids, event.parameters["count"]) == (
        AuditOutcome.SUCCEEDED,
        admin_user,
        {"hit": hit_id},
        2,
    )


def test_the_ten_assignment_rule_is_refused_with_the_reason(
    emulator_account, account_gateway, admin_user
):
    [hit_id] = create_hits(account_gateway, 1, max_assignments=9)
    sync_full(account=emulator_account, gateway=account_gateway)

    plan = hit_changes.plan_change(
        account=emulator_account,
        hit_ids=[hit_id],
        action=HITChangeAction.ADD_ASSIGNMENTS,
        parameters={"count": 1},
    )

    assert plan.allowed == []
    assert "fewer than 10" in plan.refused[0].refusal
    with pytest.raises(hit_changes.ChangeRefused):
        hit_changes.request_changes(account=emulator_account, plan=plan, requested_by=admin_user)
    assert not HITChange.objects.exists()


def test_expiry_is_extended_then_the_hit_expired_now(
    emulator_account, account_gateway, fresh_emulator, admin_user, sent
):
    [hit_id] = create_hits(account_gateway, 1)
    sync_full(account=emulator_account, gateway=account_gateway)
    later = (timezone.now() + dt.timedelta(days=3)).replace(microsecond=0)

    sent(
        lambda: change(
            emulator_account,
            [hit_id],
            HITChangeAction.UPDATE_EXPIRATION,
            admin_user,
            expire_at=later,
        )
    )

    truth = emulator_hits(fresh_emulator.control)[hit_id]
    assert abs(truth["Expiration"] - later.timestamp()) < 2
    assert HIT.objects.get(hit_id=hit_id).expires_at == later

    sent(lambda: change(emulator_account, [hit_id], HITChangeAction.EXPIRE, admin_user))

    assert emulator_hits(fresh_emulator.control)[hit_id]["HITStatus"] == "Reviewable"
    assert HIT.objects.get(hit_id=hit_id).status == "Reviewable"
    assert set(
        AuditEvent.objects.filter(action__startswith="hit.").values_list("action", "outcome")
    ) == {
        ("hit.update_expiration", AuditOutcome.SUCCEEDED),
        ("hit.expire", AuditOutcome.SUCCEEDED),
    }


def test_delete_is_refused_until_the_hit_is_reviewable_and_decided(
    emulator_account, account_gateway, fresh_emulator, admin_user, sent
):
    [hit_id] = create_hits(account_gateway, 1, max_assignments=1)
    sync_full(account=emulator_account, gateway=account_gateway)

    def plan():
        return hit_changes.plan_change(
            account=emulator_account, hit_ids=[hit_id], action=HITChangeAction.DELETE, parameters={}
        )

    assert "Reviewable" in plan().refused[0].refusal  # still Assignable

    assignment_id = work(fresh_emulator.control, hit_id, "AWORKERDEL0001")
    sync_full(account=emulator_account, gateway=account_gateway)
    assert "not approved or rejected" in plan().refused[0].refusal

    account_gateway.approve_assignment(assignment_id=assignment_id)
    sync_full(account=emulator_account, gateway=account_gateway)
    assert plan().hit_ids == [hit_id]

    sent(lambda: change(emulator_account, [hit_id], HITChangeAction.DELETE, admin_user))

    assert emulator_hits(fresh_emulator.control)[hit_id]["HITStatus"] == "Disposed"
    assert HIT.objects.get(hit_id=hit_id).status == "Disposed"
    assert AuditEvent.objects.get(action="hit.delete").outcome == AuditOutcome.SUCCEEDED


def test_the_hit_type_and_the_review_status_change(
    emulator_account, account_gateway, fresh_emulator, admin_user, sent
):
    [hit_id] = create_hits(account_gateway, 1, max_assignments=1)
    [other_id] = create_hits(account_gateway, 1, title="Is this a dog?")
    sync_full(account=emulator_account, gateway=account_gateway)
    new_type = emulator_hits(fresh_emulator.control)[other_id]["HITTypeId"]

    sent(
        lambda: change(
            emulator_account,
            [hit_id],
            HITChangeAction.CHANGE_TYPE,
            admin_user,
            hit_type_id=new_type,
        )
    )

    assert emulator_hits(fresh_emulator.control)[hit_id]["HITTypeId"] == new_type
    assert HIT.objects.get(hit_id=hit_id).hit_type.hit_type_id == new_type

    work(fresh_emulator.control, hit_id, "AWORKERREV0001")
    sync_full(account=emulator_account, gateway=account_gateway)
    sent(lambda: change(emulator_account, [hit_id], HITChangeAction.REVIEW_STATUS, admin_user))
    assert emulator_hits(fresh_emulator.control)[hit_id]["HITStatus"] == "Reviewing"

    sent(
        lambda: change(
            emulator_account, [hit_id], HITChangeAction.REVIEW_STATUS, admin_user, revert=True
        )
    )
    assert emulator_hits(fresh_emulator.control)[hit_id]["HITStatus"] == "Reviewable"
    assert (
        AuditEvent.objects.filter(
            action="hit.review_status", outcome=AuditOutcome.SUCCEEDED
        ).count()
        == 2
    )

    with pytest.raises(hit_changes.ChangeRefused):
        hit_changes.plan_change(
            account=emulator_account,
            hit_ids=[hit_id],
            action=HITChangeAction.CHANGE_TYPE,
            parameters={"hit_type_id": "NOTOURTYPE"},
        )


def test_a_bulk_job_resumed_after_a_crash_adds_assignments_once(
    emulator_account, account_gateway, fresh_emulator, admin_user
):
    hit_ids = create_hits(account_gateway, 3, max_assignments=2)
    sync_full(account=emulator_account, gateway=account_gateway)
    _, (changes, job) = change(
        emulator_account, hit_ids, HITChangeAction.ADD_ASSIGNMENTS, admin_user, count=3
    )
    assert job is not None and len(changes) == 3

    # A worker claimed the first row and sent it, then died before recording the outcome.
    first = claim(HITChange, changes[0].pk)
    account_gateway.create_additional_assignments(
        hit_id=first.hit_id, count=3, token=first.unique_request_token
    )
    counts = carry_out_hit_changes(Job.objects.get(pk=job.pk), Progress(job))

    assert (counts["done"], counts["already"], counts["failed"]) == (2, 1, 0)
    truth = emulator_hits(fresh_emulator.control)
    assert [truth[hit_id]["MaxAssignments"] for hit_id in hit_ids] == [5, 5, 5]
    assert HITChange.objects.get(pk=first.pk).state == IntentState.ALREADY


def test_the_disagreement_preview_lists_the_hits_below_the_threshold_and_their_cost(
    emulator_account, account_gateway, fresh_emulator
):
    agreed, split, lone = create_hits(account_gateway, 3, max_assignments=3)
    for n, answer in enumerate(["yes", "yes"]):
        work(fresh_emulator.control, agreed, f"AWORKERAGR000{n}", {"cat": answer})
    for n, answer in enumerate(["yes", "no", "no"]):
        work(fresh_emulator.control, split, f"AWORKERSPL000{n}", {"cat": answer})
    work(fresh_emulator.control, lone, "AWORKERLONE001", {"cat": "yes"})
    sync_full(account=emulator_account, gateway=account_gateway)
    hit_type = HIT.objects.get(hit_id=agreed).hit_type

    plan, rows = hit_changes.disagreements(hit_type=hit_type, threshold=0.7, count=2)

    # 2 of 3 agree on `split` (67% < 70%); `agreed` is unanimous; `lone` has one answer only.
    assert [row.hit.hit_id for row in rows] == [split]
    assert plan.hit_ids == [split]
    assert plan.total_cost == Decimal("0.60")
    assert not HITChange.objects.exists()


# --- Views ----------------------------------------------------------------------------------------


def test_the_admin_manages_one_hit_through_its_confirmation_page(
    emulator_account, account_gateway, fresh_emulator, lab_admin_client, sent
):
    [hit_id] = create_hits(account_gateway, 1, max_assignments=2)
    sync_full(account=emulator_account, gateway=account_gateway)
    slug = emulator_account.slug

    page = lab_admin_client.get(reverse("hit-manage", args=[slug, hit_id]))
    assert page.status_code == 200 and not nested_forms(page.content.decode())
    detail = lab_admin_client.get(reverse("hit-detail", args=[slug, hit_id]))
    assert reverse("hit-manage", args=[slug, hit_id]) in detail.content.decode()

    confirm = lab_admin_client.post(
        reverse("hits-manage-selected", args=[slug]),
        {"hit": [hit_id], "action": "add_assignments", "count": "3"},
    )
    body = confirm.content.decode()
    assert confirm.status_code == 200 and "$0.90" in body
    token = TOKEN.search(body).group(1)
    posted = {"hit": [hit_id], "action": "add_assignments", "count": "3", "confirmation": token}

    response = sent(
        lambda: lab_admin_client.post(reverse("hits-manage-confirm", args=[slug]), posted)
    )

    assert response.status_code == 302
    assert emulator_hits(fresh_emulator.control)[hit_id]["MaxAssignments"] == 5
    # The token works once: a second post sends nothing.
    again = lab_admin_client.post(reverse("hits-manage-confirm", args=[slug]), posted)
    assert again.status_code == 400
    assert HITChange.objects.count() == 1


def test_bad_input_is_a_400_with_a_message(emulator_account, account_gateway, lab_admin_client):
    [hit_id] = create_hits(account_gateway, 1)
    sync_full(account=emulator_account, gateway=account_gateway)
    url = reverse("hits-manage-selected", args=[emulator_account.slug])

    no_count = lab_admin_client.post(url, {"hit": [hit_id], "action": "add_assignments"})
    bad_type = lab_admin_client.post(
        url, {"hit": [hit_id], "action": "change_type", "hit_type_id": "X"}
    )
    bad_id = lab_admin_client.post(url, {"hit": ["<script>"], "action": "expire"})

    assert no_count.status_code == bad_type.status_code == bad_id.status_code == 400
    assert "how many assignments" in no_count.content.decode()
    assert not HITChange.objects.exists()


def test_research_staff_cannot_manage_hits(emulator_account, account_gateway, staff_client):
    [hit_id] = create_hits(account_gateway, 1)
    sync_full(account=emulator_account, gateway=account_gateway)
    slug = emulator_account.slug

    assert staff_client.get(reverse("hit-manage", args=[slug, hit_id])).status_code == 403
    response = staff_client.post(
        reverse("hits-manage-selected", args=[slug]),
        {"hit": [hit_id], "action": "expire"},
    )
    assert response.status_code == 403
    assert not HITChange.objects.exists()


def test_ticked_rows_of_the_hit_list_are_expired_by_one_job(
    emulator_account, account_gateway, fresh_emulator, lab_admin_client, staff_client, sent
):
    hit_ids = create_hits(account_gateway, 3)
    sync_full(account=emulator_account, gateway=account_gateway)
    slug = emulator_account.slug
    listing = lab_admin_client.get(reverse("hit-list", args=[slug])).content.decode()
    assert 'form="manage-hits"' in listing and not nested_forms(listing)
    assert (
        'form="manage-hits"'
        not in staff_client.get(reverse("hit-list", args=[slug])).content.decode()
    )

    ticked = lab_admin_client.post(
        reverse("hits-manage-selected", args=[slug]), {"hit": hit_ids[:2]}
    )
    assert ticked.status_code == 200
    assert all(hit_id in ticked.content.decode() for hit_id in hit_ids[:2])
    confirm = lab_admin_client.post(
        reverse("hits-manage-selected", args=[slug]), {"hit": hit_ids[:2], "action": "expire"}
    )
    token = TOKEN.search(confirm.content.decode()).group(1)

    response = sent(
        lambda: lab_admin_client.post(
            reverse("hits-manage-confirm", args=[slug]),
            {"hit": hit_ids[:2], "action": "expire", "confirmation": token},
        )
    )

    job = Job.objects.get(kind="hit.change")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    truth = emulator_hits(fresh_emulator.control)
    assert [truth[hit_id]["HITStatus"] for hit_id in hit_ids] == [
        "Reviewable",
        "Reviewable",
        "Assignable",
    ]
    assert AuditEvent.objects.filter(action="hit.expire").count() == 2
