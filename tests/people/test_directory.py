"""The worker directory: the list (search, filters, sort, pages, query count), a worker's page,
notes and tags (who may write them), and worker ids linking to the worker page elsewhere."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.enums import AuditOutcome, IntentState
from dashboard.services import record_audit_event
from people.enums import BlockAction, RecipientOutcome
from people.models import (
    BlockChange,
    Bonus,
    Message,
    MessageRecipient,
    WorkerNote,
    WorkerTag,
)
from people.services.directory import _merge_payments
from qualifications.enums import LabPurpose
from qualifications.models import Qualification, QualificationType
from tests.factories import (
    AssignmentFactory,
    HITFactory,
    HITTypeFactory,
    UserFactory,
    WorkerFactory,
)
from tests.htmlcheck import nested_forms
from workers.models import BonusPayment, Worker, WorkerBlock

pytestmark = pytest.mark.django_db


def _list_url(account) -> str:
    return reverse("worker-list", kwargs={"slug": account.slug})


def _detail_url(account, worker_id: str) -> str:
    return reverse("worker-detail", kwargs={"slug": account.slug, "worker_id": worker_id})


def _ids(body: str) -> list[str]:
    return re.findall(r'/workers/(A[A-Z0-9]+)/"><code>', body)


def _worker(account, worker_id: str, *, approved=0, rejected=0, submitted=None, last=None):
    return WorkerFactory(
        account=account,
        worker_id=worker_id,
        assignments_approved=approved,
        assignments_rejected=rejected,
        assignments_submitted=submitted if submitted is not None else approved + rejected,
        last_submit_time=last,
    )


@pytest.fixture
def crowd(account):
    """Four workers of `account` with different records, and one of another account."""
    now = timezone.now()
    good = _worker(account, "AGOODWORKER01", approved=9, rejected=1, last=now - timedelta(days=2))
    poor = _worker(account, "APOORWORKER02", approved=1, rejected=3, last=now - timedelta(days=1))
    fresh = _worker(account, "AFRESHWORKER3", submitted=2, last=now)
    hard = _worker(account, "AHARDBLOCKED4", approved=5, rejected=5)
    soft_type = QualificationType.objects.create(
        account=account,
        qualification_type_id="3SOFTBLOCK0000000000",
        name="Lab exclusion",
        lab_purpose=LabPurpose.SOFT_BLOCK,
    )
    WorkerBlock.objects.create(account=account, worker_id=hard.worker_id, reason="spam")
    Qualification.objects.create(
        account=account, qualification_type=soft_type, worker_id=poor.worker_id, integer_value=1
    )
    BlockChange.objects.create(
        account=account, worker_id=fresh.worker_id, action=BlockAction.BLOCK, reason="checking"
    )
    WorkerTag.objects.create(account=account, worker_id=good.worker_id, tag="reliable")
    return {"good": good, "poor": poor, "fresh": fresh, "hard": hard, "soft_type": soft_type}


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_every_worker_of_the_account_and_only_them(
    staff_client, account, other_account, crowd
):
    _worker(other_account, "AELSEWHERE0099", approved=1)

    body = staff_client.get(_list_url(account)).content.decode()

    assert _ids(body) == ["AFRESHWORKER3", "AGOODWORKER01", "AHARDBLOCKED4", "APOORWORKER02"]
    assert "90%" in body and "25%" in body and "none decided" in body
    assert "hard-blocked" in body and "soft-blocked" in body and "change pending" in body
    assert '<span class="kv">reliable</span>' in body


def test_search_matches_any_part_of_the_id_in_any_case(staff_client, account, crowd):
    body = staff_client.get(_list_url(account), {"q": "worker0"}).content.decode()

    assert _ids(body) == ["AGOODWORKER01", "APOORWORKER02"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"blocked": "hard"}, ["AHARDBLOCKED4"]),
        ({"blocked": "soft"}, ["APOORWORKER02"]),
        ({"blocked": "any"}, ["AHARDBLOCKED4", "APOORWORKER02"]),
        ({"blocked": "pending"}, ["AFRESHWORKER3"]),
        ({"blocked": "none"}, ["AFRESHWORKER3", "AGOODWORKER01"]),
        ({"tag": "reliable"}, ["AGOODWORKER01"]),
        # Below 60%: 25% and 50%; the worker with nothing decided is not "below" anything.
        ({"approval_below": "60"}, ["AHARDBLOCKED4", "APOORWORKER02"]),
    ],
)
def test_each_filter(staff_client, account, crowd, params, expected):
    body = staff_client.get(_list_url(account), params).content.decode()

    assert _ids(body) == expected


def test_the_study_filter_keeps_workers_who_worked_on_it(staff_client, account, crowd):
    study = HITTypeFactory(account=account, title="Cats")
    AssignmentFactory(hit=HITFactory(hit_type=study), worker=crowd["poor"])
    AssignmentFactory(
        hit=HITFactory(hit_type=HITTypeFactory(account=account)), worker=crowd["good"]
    )

    body = staff_client.get(_list_url(account), {"study": study.hit_type_id}).content.decode()

    assert _ids(body) == ["APOORWORKER02"]


def test_an_unknown_study_or_tag_is_refused_not_a_500(staff_client, account, crowd):
    response = staff_client.get(_list_url(account), {"study": "3NOSUCH", "tag": "nope"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("worker_id", ["AFRESHWORKER3", "AGOODWORKER01", "AHARDBLOCKED4", "APOORWORKER02"]),
        ("-assignments", ["AGOODWORKER01", "AHARDBLOCKED4", "APOORWORKER02", "AFRESHWORKER3"]),
        ("approval_rate", ["APOORWORKER02", "AHARDBLOCKED4", "AGOODWORKER01", "AFRESHWORKER3"]),
        ("-approval_rate", ["AGOODWORKER01", "AHARDBLOCKED4", "APOORWORKER02", "AFRESHWORKER3"]),
        ("-last_submit", ["AFRESHWORKER3", "APOORWORKER02", "AGOODWORKER01", "AHARDBLOCKED4"]),
    ],
)
def test_sort(staff_client, account, crowd, sort, expected):
    body = staff_client.get(_list_url(account), {"sort": sort}).content.decode()

    assert _ids(body) == expected


def test_pages_of_fifty_keep_the_filter(staff_client, account):
    Worker.objects.bulk_create(
        Worker(account=account, worker_id=f"AMANY{n:05d}", assignments_submitted=1)
        for n in range(120)
    )

    first = staff_client.get(_list_url(account), {"q": "AMANY"}).content.decode()
    third = staff_client.get(_list_url(account), {"q": "AMANY", "page": 3}).content.decode()

    assert len(_ids(first)) == 50 and _ids(first)[0] == "AMANY00000"
    assert "q=AMANY&amp;page=2" in first
    assert _ids(third) == [f"AMANY{n:05d}" for n in range(100, 120)]


def test_htmx_gets_the_table_only(staff_client, account, crowd):
    response = staff_client.get(_list_url(account), {"q": "GOOD"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()

    assert body.lstrip().startswith('<section id="worker-table"')
    assert _ids(body) == ["AGOODWORKER01"] and "<html" not in body
    assert "HX-Request" in response["Vary"]


def _busy_workers(account, numbers: range) -> None:
    """Workers with two assignments each, a bonus held by both ledger and mirror, a tag, a block."""
    study = HITTypeFactory(account=account)
    for i in numbers:
        worker = _worker(account, f"ABUSY{i:05d}", approved=1, rejected=1)
        for _ in range(2):
            AssignmentFactory(hit=HITFactory(hit_type=study), worker=worker)
        Bonus.objects.create(
            account=account,
            worker_id=worker.worker_id,
            assignment_id=f"A{i}",
            amount=Decimal("1.00"),
            reason="thanks",
            state=IntentState.DONE,
        )
        BonusPayment.objects.create(
            account=account,
            mturk_key=f"k{i}",
            worker_id=worker.worker_id,
            assignment_id=f"A{i}",
            amount=Decimal("1.00"),
        )
        WorkerTag.objects.create(account=account, worker_id=worker.worker_id, tag="busy")
        WorkerBlock.objects.create(account=account, worker_id=worker.worker_id)


def test_a_page_costs_the_same_queries_whatever_its_size(
    staff_client, account, django_assert_max_num_queries
):
    _busy_workers(account, range(3))
    with django_assert_max_num_queries(20) as small:
        staff_client.get(_list_url(account))
    _busy_workers(account, range(3, 70))

    with django_assert_max_num_queries(len(small.captured_queries)):
        body = staff_client.get(_list_url(account)).content.decode()

    assert len(_ids(body)) == 50
    # One payment each, counted once though both the ledger and MTurk's record hold it.
    assert body.count("1 · $1.00") == 50


def test_bonuses_paid_count_a_payment_once_whichever_sources_hold_it():
    d = Decimal
    ledger = [("AW1", "A1", d("1.00")), ("AW1", "A2", d("0.50")), ("AW1", "A3", d("2.00"))] * 1
    ledger += [("AW1", "A3", d("2.00"))]  # paid again, same amount: two payments
    mirror = [("AW1", "A1", d("1.00")), ("AW1", "A4", d("0.25"))]  # A4 paid outside the dashboard

    totals = _merge_payments(ledger, mirror)["AW1"]

    assert (totals.count, totals.total) == (5, d("5.75"))


# --- A worker's page -----------------------------------------------------------------------------


@pytest.fixture
def profile(account, crowd, admin_user):
    """AGOODWORKER01 answered two HITs of "Cats" (agreeing once of twice with the majority) and
    one HIT of "Dogs"; has a bonus, a score, a message and a note."""
    worker = crowd["good"]
    cats = HITTypeFactory(account=account, title="Cats", hit_type_id="3CATS000000000000001")
    dogs = HITTypeFactory(account=account, title="Dogs", hit_type_id="3DOGS000000000000001")
    agree_hit, disagree_hit = HITFactory(hit_type=cats), HITFactory(hit_type=cats)
    AssignmentFactory(hit=agree_hit, worker=worker, answers={"label": "cat"}, status="Approved")
    disagreeing = AssignmentFactory(
        hit=disagree_hit, worker=worker, answers={"label": "dog"}, work_time_seconds=30
    )
    for hit, label in ((agree_hit, "cat"), (agree_hit, "cat"), (disagree_hit, "cat")):
        AssignmentFactory(hit=hit, answers={"label": label})
    AssignmentFactory(hit=disagree_hit, answers={"label": "cat"})
    AssignmentFactory(hit=HITFactory(hit_type=dogs), worker=worker, work_time_seconds=200)
    Bonus.objects.create(
        account=account,
        worker_id=worker.worker_id,
        assignment_id=disagreeing.assignment_id,
        amount=Decimal("0.75"),
        reason="Great work",
        state=IntentState.DONE,
    )
    Qualification.objects.create(
        account=account,
        qualification_type=QualificationType.objects.create(
            account=account, qualification_type_id="3SKILL00000000000001", name="Skill test"
        ),
        worker_id=worker.worker_id,
        integer_value=87,
    )
    message = Message.objects.create(account=account, subject="New study soon", text="Hi")
    MessageRecipient.objects.create(
        message=message,
        account=account,
        worker_id=worker.worker_id,
        outcome=RecipientOutcome.SOFT_FAILURE,
        failure_message="Worker cannot be reached",
    )
    WorkerNote.objects.create(
        account=account, worker_id=worker.worker_id, text="Careful <b>worker</b>", author=admin_user
    )
    return {"worker": worker, "cats": cats, "dogs": dogs, "disagreeing": disagreeing}


def test_the_worker_page_shows_the_workers_record(staff_client, account, profile):
    worker, disagreeing = profile["worker"], profile["disagreeing"]

    body = staff_client.get(_detail_url(account, worker.worker_id)).content.decode()

    study_url = reverse(
        "study-detail", kwargs={"slug": account.slug, "hit_type_id": profile["cats"].hit_type_id}
    )
    hit_url = reverse("hit-detail", kwargs={"slug": account.slug, "hit_id": disagreeing.hit.hit_id})
    assert f'href="{study_url}">Cats</a>' in body
    assert f'href="{hit_url}#a-{disagreeing.assignment_id}"' in body
    # Cats: agrees on one HIT of two; Dogs: the only answer, no majority to compare.
    assert '50% <span class="muted">(1 of 2)</span>' in body
    assert '50% <span class="muted">(1 of 2 answers)</span>' in body
    assert "90% (9 approved, 1 rejected)" in body
    assert "1 min 35 s" in body  # median of 95, 30 and 200 seconds
    assert "$0.75" in body and "Great work" in body and "1 · $0.75" in body
    assert "Skill test" in body and "87" in body
    assert (
        "New study soon" in body and "Soft failure" in body and "Worker cannot be reached" in body
    )
    assert "Careful &lt;b&gt;worker&lt;/b&gt;" in body and "alice-admin" in body
    assert '<span class="kv">reliable</span>' in body
    assert 'id="worker-actions"' in body
    assert nested_forms(body) == []


def test_the_worker_page_pages_its_assignments_in_constant_queries(
    staff_client, account, crowd, django_assert_max_num_queries
):
    worker = crowd["good"]
    url = _detail_url(account, worker.worker_id)
    AssignmentFactory(hit=HITFactory(hit_type=HITTypeFactory(account=account)), worker=worker)
    with django_assert_max_num_queries(30) as few:
        staff_client.get(url)
    for n in range(60):
        AssignmentFactory(
            hit=HITFactory(hit_type=HITTypeFactory(account=account)),
            worker=worker,
            assignment_id=f"3MANY{n:025d}",
            submit_time=timezone.now() - timedelta(hours=n + 1),
        )

    with django_assert_max_num_queries(len(few.captured_queries)):
        first = staff_client.get(url).content.decode()
    second = staff_client.get(url, {"page": 2}, HTTP_HX_REQUEST="true").content.decode()

    assert first.count("#a-3") == 50 and "page=2" in first
    assert second.lstrip().startswith('<section class="card wide" id="assignments">')
    assert second.count("#a-3") == 11 and "3MANY0000000000000000000000059" in second


def test_the_worker_page_shows_hard_soft_and_pending_blocks(staff_client, account, crowd):
    hard = staff_client.get(_detail_url(account, "AHARDBLOCKED4")).content.decode()
    soft = staff_client.get(_detail_url(account, "APOORWORKER02")).content.decode()
    pending = staff_client.get(_detail_url(account, "AFRESHWORKER3")).content.decode()

    assert "blocked at MTurk</strong> — spam" in hard
    assert "on the lab's exclusion list" in soft and "Lab exclusion" in soft
    assert "Waiting</span>" in pending and "hard block: block" in pending


@pytest.mark.parametrize("worker_id", ["AELSEWHERE0099", "ANOSUCHWORKER", "not-a-worker", "a" * 70])
def test_a_worker_the_account_never_met_or_a_bad_id_is_404(
    staff_client, account, other_account, crowd, worker_id
):
    _worker(other_account, "AELSEWHERE0099", approved=1)

    assert staff_client.get(_detail_url(account, worker_id)).status_code == 404


def test_the_directory_is_for_members_only(personas, account, crowd):
    url = _detail_url(account, "AGOODWORKER01")

    assert personas["anonymous"].get(url).status_code == 302
    assert "/accounts/login/" in personas["anonymous"].get(url)["Location"]
    assert personas["other_staff"].get(url).status_code == 404
    assert personas["other_staff"].get(_list_url(account)).status_code == 404
    assert personas["staff"].get(url).status_code == 200
    assert personas["admin"].get(_list_url(account)).status_code == 200


# --- Notes and tags ------------------------------------------------------------------------------


def _post(client: Client, account, name: str, data: dict, **extra):
    url = reverse(name, kwargs={"slug": account.slug, "worker_id": "AGOODWORKER01"})
    return client.post(url, data, **extra)


@pytest.mark.parametrize("persona", ["staff", "admin"])
def test_staff_and_admins_add_notes_newest_first(personas, account, crowd, persona):
    _post(personas[persona], account, "worker-note-add", {"text": "older note"})
    response = _post(personas[persona], account, "worker-note-add", {"text": "newer note"})

    assert response.status_code == 302
    assert response["Location"] == _detail_url(account, "AGOODWORKER01")
    notes = WorkerNote.objects.filter(account=account, worker_id="AGOODWORKER01")
    assert [n.text for n in notes] == ["newer note", "older note"]
    body = personas[persona].get(response["Location"]).content.decode()
    assert body.index("newer note") < body.index("older note")


def test_an_htmx_note_returns_the_notes_section(staff_client, account, crowd):
    response = _post(
        staff_client, account, "worker-note-add", {"text": "via htmx"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()

    assert response.status_code == 200
    assert body.lstrip().startswith('<section class="card wide" id="notes">')
    assert "via htmx" in body and "bob-staff" in body


def test_an_empty_note_is_refused_with_a_message(staff_client, account, crowd):
    plain = _post(staff_client, account, "worker-note-add", {"text": "  "})
    htmx = _post(staff_client, account, "worker-note-add", {"text": ""}, HTTP_HX_REQUEST="true")

    assert plain.status_code == 400 and "This field is required" in plain.content.decode()
    assert htmx.status_code == 200 and "This field is required" in htmx.content.decode()
    assert not WorkerNote.objects.exists()


def test_tags_are_added_once_and_removed(staff_client, account, crowd):
    _post(staff_client, account, "worker-tag-add", {"tag": "  Check   Answers "})
    _post(staff_client, account, "worker-tag-add", {"tag": "check answers"})
    tags = WorkerTag.objects.filter(account=account, worker_id="AGOODWORKER01")
    assert sorted(tags.values_list("tag", flat=True)) == ["check answers", "reliable"]

    response = _post(
        staff_client, account, "worker-tag-remove", {"tag": "reliable"}, HTTP_HX_REQUEST="true"
    )

    assert list(tags.values_list("tag", flat=True)) == ["check answers"]
    assert 'id="tags"' in response.content.decode()
    assert "reliable" not in response.content.decode()


def test_a_tag_with_markup_is_refused(staff_client, account, crowd):
    response = _post(staff_client, account, "worker-tag-add", {"tag": "<script>"})

    assert response.status_code == 400
    assert "Use letters, digits" in response.content.decode()
    assert not WorkerTag.objects.filter(tag__contains="<").exists()


def test_outsiders_cannot_write_notes_or_tags(personas, account, crowd):
    anonymous = _post(personas["anonymous"], account, "worker-note-add", {"text": "x"})
    other = _post(personas["other_staff"], account, "worker-tag-add", {"tag": "x"})

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert other.status_code == 404
    assert not WorkerNote.objects.exists()
    assert list(WorkerTag.objects.values_list("tag", flat=True)) == ["reliable"]


def test_a_member_without_review_permission_cannot_write(account, crowd):
    viewer = UserFactory(username="vera-viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_account_data"))
    account.members.add(viewer)
    client = Client()
    client.force_login(viewer)

    page = client.get(_detail_url(account, "AGOODWORKER01"))
    response = _post(client, account, "worker-note-add", {"text": "x"})

    assert page.status_code == 200 and "Add note" not in page.content.decode()
    assert response.status_code == 403
    assert not WorkerNote.objects.exists()


# --- Worker ids elsewhere link here -------------------------------------------------------------


def test_worker_ids_in_the_review_grid_and_hit_page_link_to_the_worker_page(staff_client, account):
    assignment = AssignmentFactory(
        hit=HITFactory(hit_type=HITTypeFactory(account=account)),
        worker=WorkerFactory(account=account, worker_id="AGRIDWORKER01"),
    )
    worker_url = _detail_url(account, "AGRIDWORKER01")
    grid_url = reverse(
        "study-detail",
        kwargs={"slug": account.slug, "hit_type_id": assignment.hit_type.hit_type_id},
    )
    hit_url = reverse("hit-detail", kwargs={"slug": account.slug, "hit_id": assignment.hit.hit_id})

    grid = staff_client.get(grid_url).content.decode()
    hit_page = staff_client.get(hit_url).content.decode()

    # In the grid's rows and in the workers' summary table.
    assert grid.count(f'href="{worker_url}"') == 2
    assert f'href="{worker_url}"' in hit_page
    assert staff_client.get(worker_url).status_code == 200


def test_the_account_navigation_links_to_the_directory(staff_client, account):
    body = staff_client.get(reverse("account-overview", kwargs={"slug": account.slug}))

    assert f'href="{_list_url(account)}">Workers</a>' in body.content.decode()


def test_a_worker_in_the_audit_log_links_to_the_worker_page(lab_admin_client, account, crowd):
    record_audit_event(
        action="worker.block",
        outcome=AuditOutcome.SUCCEEDED,
        actor=None,
        account=account,
        target_ids={"worker": "AHARDBLOCKED4"},
    )

    body = lab_admin_client.get(reverse("audit-log", kwargs={"slug": account.slug}))

    assert f'href="{_detail_url(account, "AHARDBLOCKED4")}"' in body.content.decode()
