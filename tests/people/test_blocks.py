"""Hard and soft blocks against the emulator over real HTTP: its truth (blocks, qualification types,
scores) is the judge. Views: the allowed and the forbidden path of each."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dashboard.enums import AuditOutcome, IntentState, JobState
from dashboard.models import AuditEvent, Job
from hits.models import Assignment
from mirror.sync import run_sync
from people.enums import BlockAction, BlockKind
from people.models import BlockChange
from people.services.blocks import (
    SOFT_BLOCK_NAME,
    change_one,
    exclusion_requirements,
    parse_block_csv,
)
from qualifications.enums import LabPurpose
from qualifications.models import Qualification, QualificationGrant, QualificationType
from tests.hits.test_sync import create_hits, work
from tests.htmlcheck import nested_forms
from workers.models import WorkerBlock

TOKEN = re.compile(r'name="confirmation" value="([^"]+)"')


def blocks(control) -> dict[str, str]:
    return {b["WorkerId"]: b["Reason"] for b in control.truth("blocks")["blocks"]}


def soft_types(control) -> list[dict]:
    return [
        t
        for t in control.truth("qualification_types")["qualification_types"]
        if t["Name"] == SOFT_BLOCK_NAME
    ]


def holders(control, type_id: str) -> dict[str, str]:
    return {
        q["WorkerId"]: q["Status"]
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id
    }


@pytest.fixture
def sent(eager_celery, django_capture_on_commit_callbacks):
    """Run what a request enqueues after commit (tasks and jobs), inline."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


# --- Services -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hard_block_and_unblock_reach_mturk_and_the_mirror(
    emulator_account, fresh_emulator, admin_user, sent
):
    fresh_emulator.control.add_worker(WorkerId="AHARDBLOCK0001")

    sent(
        lambda: change_one(
            account=emulator_account,
            worker_id="AHARDBLOCK0001",
            kind=BlockKind.HARD,
            action=BlockAction.BLOCK,
            reason="Copied answers",
            requested_by=admin_user,
        )
    )

    assert blocks(fresh_emulator.control) == {"AHARDBLOCK0001": "Copied answers"}
    assert WorkerBlock.objects.get(account=emulator_account).worker_id == "AHARDBLOCK0001"
    event = AuditEvent.objects.get(action="worker.block")
    assert (event.outcome, event.actor, event.target_ids) == (
        AuditOutcome.SUCCEEDED,
        admin_user,
        {"worker": "AHARDBLOCK0001"},
    )

    sent(
        lambda: change_one(
            account=emulator_account,
            worker_id="AHARDBLOCK0001",
            kind=BlockKind.HARD,
            action=BlockAction.UNBLOCK,
            reason="",
            requested_by=admin_user,
        )
    )

    assert blocks(fresh_emulator.control) == {}
    assert not WorkerBlock.objects.filter(account=emulator_account).exists()
    assert list(BlockChange.objects.values_list("action", "state")) == [
        ("block", IntentState.DONE),
        ("unblock", IntentState.DONE),
    ]


@pytest.mark.django_db
def test_a_block_without_reason_is_refused_and_nothing_recorded(emulator_account, admin_user):
    from people.services.blocks import BlockRefused

    with pytest.raises(BlockRefused):
        change_one(
            account=emulator_account,
            worker_id="ANOREASON00001",
            kind=BlockKind.HARD,
            action=BlockAction.BLOCK,
            reason="  ",
            requested_by=admin_user,
        )
    assert BlockChange.objects.count() == 0


@pytest.mark.django_db
def test_two_soft_blocks_make_the_exclusion_type_once_and_grant_it(
    emulator_account, fresh_emulator, admin_user, sent
):
    for worker_id in ("ASOFTBLOCK0001", "ASOFTBLOCK0002"):
        fresh_emulator.control.add_worker(WorkerId=worker_id)
        sent(
            lambda worker_id=worker_id: change_one(
                account=emulator_account,
                worker_id=worker_id,
                kind=BlockKind.SOFT,
                action=BlockAction.BLOCK,
                reason="Not paying attention",
                requested_by=admin_user,
            )
        )

    (mturk_type,) = soft_types(fresh_emulator.control)
    type_id = mturk_type["QualificationTypeId"]
    assert holders(fresh_emulator.control, type_id) == {
        "ASOFTBLOCK0001": "Granted",
        "ASOFTBLOCK0002": "Granted",
    }
    assert blocks(fresh_emulator.control) == {}
    local = QualificationType.objects.get(
        account=emulator_account, lab_purpose=LabPurpose.SOFT_BLOCK
    )
    assert local.qualification_type_id == type_id
    assert Qualification.objects.filter(qualification_type=local, status="Granted").count() == 2
    assert exclusion_requirements(emulator_account) == [
        {
            "QualificationTypeId": type_id,
            "Comparator": "DoesNotExist",
            "ActionsGuarded": "DiscoverPreviewAndAccept",
        }
    ]

    sent(
        lambda: change_one(
            account=emulator_account,
            worker_id="ASOFTBLOCK0001",
            kind=BlockKind.SOFT,
            action=BlockAction.UNBLOCK,
            reason="",
            requested_by=admin_user,
        )
    )
    assert holders(fresh_emulator.control, type_id)["ASOFTBLOCK0001"] == "Revoked"


@pytest.mark.django_db
def test_blocks_made_outside_the_dashboard_appear_after_sync(
    emulator_account, account_gateway, fresh_emulator, lab_admin_client
):
    fresh_emulator.control.add_worker(WorkerId="AOUTSIDEBLOCK1")
    account_gateway.create_worker_block(worker_id="AOUTSIDEBLOCK1", reason="Blocked on the website")

    assert run_sync(account=emulator_account, kind="blocks", gateway=account_gateway).ok

    assert WorkerBlock.objects.get(account=emulator_account).reason == "Blocked on the website"
    page = lab_admin_client.get(
        reverse("worker-block", kwargs={"slug": "emu", "worker_id": "AOUTSIDEBLOCK1"})
    )
    assert page.status_code == 200
    assert "Blocked on the website" in page.content.decode()


def test_a_csv_with_problems_is_refused_whole():
    plan = parse_block_csv(b"WorkerId,Reason\nAGOODWORKER001,fine\nnot a worker,x\n,\n")

    assert not plan.ok
    assert plan.problems == ["Line 3: “not a worker” is not a worker id."]
    assert not parse_block_csv("Worker,Reason\nAGOODWORKER001,é\n".encode()).ok
    assert parse_block_csv(b"\xff\xfeW\x00").problems == [
        "The file is not UTF-8 text (save it as CSV UTF-8)."
    ]
    good = parse_block_csv(b"Worker ID,Reason\nAGOODWORKER001,slow\nAGOODWORKER001,again\n")
    assert (good.ok, good.rows, good.duplicates) == (
        True,
        [("AGOODWORKER001", "slow")],
        ["AGOODWORKER001"],
    )


# --- Views ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_blocking_one_worker_from_their_page(
    emulator_account, fresh_emulator, lab_admin_client, sent
):
    fresh_emulator.control.add_worker(WorkerId="AVIEWBLOCK0001")
    url = reverse("worker-block", kwargs={"slug": "emu", "worker_id": "AVIEWBLOCK0001"})

    assert lab_admin_client.get(url).status_code == 200
    response = sent(
        lambda: lab_admin_client.post(
            url, {"kind": "hard", "action": "block", "reason": "Spam answers"}
        )
    )

    assert response.status_code == 302
    assert blocks(fresh_emulator.control) == {"AVIEWBLOCK0001": "Spam answers"}
    assert "badge-blocked" in lab_admin_client.get(url).content.decode()


@pytest.mark.django_db
def test_a_block_without_reason_from_the_page_sends_nothing(emulator_account, lab_admin_client):
    url = reverse("worker-block", kwargs={"slug": "emu", "worker_id": "AVIEWBLOCK0002"})

    response = lab_admin_client.post(url, {"kind": "hard", "action": "block", "reason": ""})

    assert response.status_code == 200
    assert "A block needs a reason." in response.content.decode()
    assert BlockChange.objects.count() == 0


@pytest.mark.django_db
def test_bulk_block_from_a_csv_previews_confirms_and_runs_a_job(
    emulator_account, fresh_emulator, lab_admin_client, sent
):
    workers = ["ACSVBLOCK00001", "ACSVBLOCK00002", "ACSVBLOCK00003"]
    for worker_id in workers:
        fresh_emulator.control.add_worker(WorkerId=worker_id)
    data = "WorkerId,Reason\n" + "\n".join(
        f"{w},{'own reason' if n == 0 else ''}" for n, w in enumerate(workers)
    )
    upload = lab_admin_client.post(
        reverse("workers-block-upload", kwargs={"slug": "emu"}),
        {"file": SimpleUploadedFile("block.csv", data.encode(), content_type="text/csv")},
    )
    page = upload.content.decode()
    assert upload.status_code == 200 and all(w in page for w in workers)
    assert BlockChange.objects.count() == 0  # nothing until confirmed
    fields = {
        "worker": workers,
        "row_reason": ["own reason", "", ""],
        "source": "csv",
        "kind": "hard",
        "action": "block",
        "reason": "Listed by the PI",
        "confirmation": TOKEN.search(page).group(1),
    }

    response = sent(
        lambda: lab_admin_client.post(
            reverse("workers-block-confirm", kwargs={"slug": "emu"}), fields
        )
    )

    job = Job.objects.get(kind="worker.block")
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    job.refresh_from_db()
    assert (job.state, job.done, job.total) == (JobState.SUCCEEDED, 3, 3)
    assert blocks(fresh_emulator.control) == {
        "ACSVBLOCK00001": "own reason",
        "ACSVBLOCK00002": "Listed by the PI",
        "ACSVBLOCK00003": "Listed by the PI",
    }
    # The same page posted again (a double click) sends nothing more.
    again = lab_admin_client.post(reverse("workers-block-confirm", kwargs={"slug": "emu"}), fields)
    assert again.status_code == 200 and "no longer valid" in again.content.decode()
    assert BlockChange.objects.count() == 3


@pytest.mark.django_db
def test_a_bad_block_csv_is_refused_with_a_report_and_nothing_sent(
    emulator_account, fresh_emulator, lab_admin_client
):
    response = lab_admin_client.post(
        reverse("workers-block-upload", kwargs={"slug": "emu"}),
        {"file": SimpleUploadedFile("bad.csv", b"Name,Reason\nbob,x\n", content_type="text/csv")},
    )

    assert response.status_code == 200
    assert "No worker id column" in response.content.decode()
    assert 'name="confirmation"' not in response.content.decode()
    assert (BlockChange.objects.count(), Job.objects.count()) == (0, 0)
    assert blocks(fresh_emulator.control) == {}


@pytest.mark.django_db
def test_a_forged_confirmation_sends_nothing(emulator_account, fresh_emulator, lab_admin_client):
    response = lab_admin_client.post(
        reverse("workers-block-confirm", kwargs={"slug": "emu"}),
        {
            "worker": ["AFORGED0000001"],
            "row_reason": [""],
            "source": "grid",
            "kind": "hard",
            "action": "block",
            "reason": "x",
            "confirmation": "made-up",
        },
    )

    assert response.status_code == 200 and "no longer valid" in response.content.decode()
    assert (BlockChange.objects.count(), Job.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_soft_blocking_ticked_rows_of_the_grid(
    emulator_account, account_gateway, fresh_emulator, lab_admin_client, sent
):
    (hit_id,) = create_hits(account_gateway, 1, max_assignments=2)
    ids = [work(fresh_emulator.control, hit_id, w) for w in ("AGRIDWORKER001", "AGRIDWORKER002")]
    run_sync(account=emulator_account, kind="full", gateway=account_gateway)
    hit_type_id = Assignment.objects.get(assignment_id=ids[0]).hit_type.hit_type_id
    grid = lab_admin_client.get(
        reverse("study-detail", kwargs={"slug": "emu", "hit_type_id": hit_type_id})
    )
    assert "Block selected workers" in grid.content.decode()
    assert nested_forms(grid.content.decode()) == []

    confirm = lab_admin_client.post(
        reverse("workers-block-selected", kwargs={"slug": "emu"}),
        {"selected": [ids[0]], "action": "approve", "scope": "matching"},
    )
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "AGRIDWORKER001" in page and "AGRIDWORKER002" not in page
    response = sent(
        lambda: lab_admin_client.post(
            reverse("workers-block-confirm", kwargs={"slug": "emu"}),
            {
                "worker": ["AGRIDWORKER001"],
                "row_reason": [""],
                "source": "grid",
                "kind": "soft",
                "action": "block",
                "reason": "Answered at random",
                "confirmation": TOKEN.search(page).group(1),
            },
        )
    )

    assert response.status_code == 302
    assert Job.objects.get().kind == "qualification.grant"
    (mturk_type,) = soft_types(fresh_emulator.control)
    assert holders(fresh_emulator.control, mturk_type["QualificationTypeId"]) == {
        "AGRIDWORKER001": "Granted"
    }
    assert QualificationGrant.objects.get().reason == "Answered at random"
    grid = lab_admin_client.get(
        reverse("study-detail", kwargs={"slug": "emu", "hit_type_id": hit_type_id})
    )
    assert grid.content.decode().count("badge-soft-blocked") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "kwargs", "method"),
    [
        ("worker-block", {"worker_id": "AANYWORKER0001"}, "get"),
        ("worker-block", {"worker_id": "AANYWORKER0001"}, "post"),
        ("workers-block-upload", {}, "get"),
        ("workers-block-selected", {}, "post"),
        ("workers-block-confirm", {}, "post"),
    ],
)
def test_block_views_allow_lab_admins_only(personas, account, name, kwargs, method):
    url = reverse(name, kwargs={"slug": account.slug, **kwargs})

    anonymous = getattr(personas["anonymous"], method)(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
    assert getattr(personas["staff"], method)(url).status_code == 403
    assert getattr(personas["other_staff"], method)(url).status_code == 404
    assert getattr(personas["admin"], method)(url).status_code in (200, 302, 400)
    assert BlockChange.objects.count() == 0


@pytest.mark.django_db
def test_the_janitor_sends_a_single_block_whose_message_was_lost(
    emulator_account, fresh_emulator, admin_user, eager_celery
):
    from datetime import timedelta

    from django.utils import timezone

    from dashboard.intents import requeue_stale

    # Recorded, but the task never ran (its message was lost; on_commit hooks do not run here).
    change_one(
        account=emulator_account,
        worker_id="ALOSTBLOCK0001",
        kind=BlockKind.HARD,
        action=BlockAction.BLOCK,
        reason="Lost message",
        requested_by=admin_user,
    )
    BlockChange.objects.update(created_at=timezone.now() - timedelta(minutes=2))

    assert requeue_stale(BlockChange) == 1

    assert BlockChange.objects.get().state == IntentState.DONE
    assert blocks(fresh_emulator.control) == {"ALOSTBLOCK0001": "Lost message"}
    assert requeue_stale(BlockChange) == 0
