"""Grants from a file against the emulator: upload -> preview -> confirmation -> one job. A bulk
grant of 1,000 workers under throttling with a worker killed mid-job sends each association
exactly once (counted by the emulator as it applies them), and bad files are refused with a
report and nothing sent. Nothing of ours is mocked; only the waits between retries are skipped."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dashboard import intent_jobs, intents
from dashboard.enums import IntentState, JobState
from dashboard.intent_jobs import carry_out_intents
from dashboard.jobs import Progress, requeue_stale_jobs
from dashboard.models import Job
from emulator.operations import registry
from mturk.errors import MTurkError
from qualifications import jobs as grant_jobs
from qualifications import services
from qualifications.models import GrantUpload, Qualification, QualificationGrant, QualificationType
from workers.models import Worker

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The worker process dies: nothing after this point runs (not even `except Exception`)."""


class _NoSleep:
    def __getattr__(self, name: str):
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        return None


@pytest.fixture
def no_backoff(monkeypatch):
    # botocore waits between its own retries, the job loop between throttled rows.
    monkeypatch.setattr("botocore.endpoint.time", _NoSleep())
    monkeypatch.setattr(intent_jobs, "time", _NoSleep())


@pytest.fixture
def applied(monkeypatch) -> Counter:
    """(worker id, value) -> how many times the emulator applied an association (calls it
    refused with throttling or a fault never reach the operation, so they are not counted)."""
    counts: Counter = Counter()
    name = "AssociateQualificationWithWorker"
    original = registry.OPERATIONS[name]

    def counting(emu, params, ctx):
        result = original(emu, params, ctx)
        counts[(params["WorkerId"], params.get("IntegerValue", 1))] += 1
        return result

    monkeypatch.setitem(registry.OPERATIONS, name, counting)
    return counts


@pytest.fixture
def qtype(emulator_account, account_gateway) -> QualificationType:
    record = account_gateway.create_qualification_type(name="Passed screening", description="x")
    return QualificationType.objects.create(
        account=emulator_account,
        qualification_type_id=record.qualification_type_id,
        name="Passed screening",
    )


def csv_file(text: str | bytes, name: str = "grants.csv") -> SimpleUploadedFile:
    data = text.encode() if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def upload_url(account, qtype) -> str:
    return reverse("qualification-grant-upload", args=[account.slug, qtype.qualification_type_id])


def upload_and_confirm(client, account, qtype, data, *, capture, **options) -> Job:
    response = client.post(
        upload_url(account, qtype), {"action": "grant", "file": csv_file(data), **options}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    token = preview.context["form"].initial["confirmation"]
    upload = GrantUpload.objects.latest("pk")
    confirm = reverse(
        "qualification-upload-confirm", args=[account.slug, qtype.qualification_type_id, upload.pk]
    )
    with capture(execute=False):  # its worker is the test's own, below
        response = client.post(confirm, {"confirmation": token})
    assert response.status_code == 302
    job = Job.objects.get(pk=GrantUpload.objects.get(pk=upload.pk).job_id)
    assert response["Location"] == job.get_absolute_url()
    # The confirmation posted again finds the same job; nothing more is recorded.
    again = client.post(confirm, {"confirmation": token})
    assert again.status_code == 302 and again["Location"] == job.get_absolute_url()
    return job


@pytest.mark.slow
def test_a_bulk_grant_of_1000_workers_under_throttling_and_a_killed_worker_sends_each_once(
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    qtype,
    no_backoff,
    applied,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    control = fresh_emulator.control
    workers = [f"ABULK{n:08d}" for n in range(1000)]
    values = {w: n % 100 for n, w in enumerate(workers)}
    data = "WorkerId,Value\n" + "".join(f"{w},{values[w]}\n" for w in workers)
    job = upload_and_confirm(
        lab_admin_client,
        emulator_account,
        qtype,
        data,
        capture=django_capture_on_commit_callbacks,
    )
    assert QualificationGrant.objects.filter(job=job).count() == 1000
    assert Job.objects.count() == 1

    control.set_faults(seed=13, throttle_rate=0.2, latency_ms=0)

    # A first worker takes the job, sends 300 grants, and dies sending the 301st: MTurk applied
    # it, our row still says `sending`.
    Job.objects.filter(pk=job.pk).update(
        state=JobState.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(), attempts=1
    )
    job.refresh_from_db()
    finished = 0

    def dying_send(grant_id: int, gateway):
        nonlocal finished
        if finished == 300:
            grant = intents.claim(QualificationGrant, grant_id, reclaim_sending=True)
            assert grant is not None
            while True:
                try:
                    gateway.associate_qualification_with_worker(
                        qualification_type_id=qtype.qualification_type_id,
                        worker_id=grant.worker_id,
                        integer_value=grant.integer_value,
                    )
                    break
                except MTurkError as exc:
                    if not exc.retryable:
                        raise
            raise WorkerKilled
        grant = grant_jobs.send_grant(grant_id, gateway)
        if grant is not None and grant.state in (IntentState.DONE, IntentState.ALREADY):
            finished += 1
        return grant

    with pytest.raises(WorkerKilled):
        carry_out_intents(
            job,
            Progress(job),
            model=QualificationGrant,
            send=dying_send,
            select_related=("qualification_type",),
        )
    killed = QualificationGrant.objects.get(job=job, state=IntentState.SENDING)
    assert sum(applied.values()) == 301

    # Time passes: the job's heartbeat and the row's claim are old. The janitor hands the job to
    # another worker (inline here), which finishes it without sending the 301st again.
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    QualificationGrant.objects.filter(pk=killed.pk).update(
        claimed_at=timezone.now() - timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert job.pk in requeue_stale_jobs()
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED, job.error
    assert (job.total, job.done, job.failed) == (1000, 1000, 0)
    killed.refresh_from_db()
    assert killed.state == IntentState.ALREADY and killed.attempts == 2

    control.set_faults(throttle_rate=0)
    assert control.get("calls")["error_counts"].get("Throttled", 0) > 100  # throttling happened
    # Each association applied exactly once, with the file's value, by the emulator's count...
    assert applied == Counter({(w, values[w]): 1 for w in workers})
    # ...and its truth: every worker holds the type with the file's value.
    truth = {
        q["WorkerId"]: (q["Status"], q.get("IntegerValue"))
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == qtype.qualification_type_id
    }
    assert truth == {w: ("Granted", values[w]) for w in workers}
    assert Counter(QualificationGrant.objects.values_list("state", flat=True)) == {
        IntentState.DONE: 999,
        IntentState.ALREADY: 1,
    }
    # The mirror shows the scores before any sync.
    assert Qualification.objects.filter(qualification_type=qtype, status="Granted").count() == 1000

    # The same file uploaded again sends nothing: every row already holds its value.
    response = lab_admin_client.post(
        upload_url(emulator_account, qtype), {"action": "grant", "file": csv_file(data)}
    )
    assert response.status_code == 400
    plan = response.context["plan"]
    assert (len(plan.rows), len(plan.skipped)) == (0, 1000)
    assert Job.objects.count() == 1


def test_the_preview_shows_no_ops_open_grants_and_workers_the_account_has_not_met(
    lab_admin_client, emulator_account, qtype
):
    Worker.objects.create(account=emulator_account, worker_id="AMETWORKER0001")
    Qualification.objects.create(
        account=emulator_account,
        qualification_type=qtype,
        worker_id="AHOLDSFIVE0001",
        integer_value=5,
    )
    services.request_grants(qualification_type=qtype, worker_ids=["AINFLIGHT00001"])
    data = (
        "Worker ID,Value\nAMETWORKER0001,3\nAHOLDSFIVE0001,5\nAINFLIGHT00001,2\nANEVERMET00001,1\n"
    )

    response = lab_admin_client.post(
        upload_url(emulator_account, qtype), {"action": "grant", "file": csv_file(data)}
    )

    assert response.status_code == 302
    plan = lab_admin_client.get(response["Location"]).context["plan"]
    assert [(r.worker_id, r.value) for r in plan.rows] == [
        ("AMETWORKER0001", 3),
        ("ANEVERMET00001", 1),
    ]
    assert {(s.worker_id, s.message) for s in plan.skipped} == {
        ("AHOLDSFIVE0001", "Already holds this value."),
        ("AINFLIGHT00001", "A change of it is already on its way."),
    }
    assert plan.unknown == ["ANEVERMET00001"]


def test_a_revocation_file_revokes_the_holders_with_the_reason(
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    qtype,
    account_gateway,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    holders = ["AREVOKEME00001", "AREVOKEME00002"]
    for worker_id in holders:
        account_gateway.associate_qualification_with_worker(
            qualification_type_id=qtype.qualification_type_id, worker_id=worker_id
        )
        Qualification.objects.create(
            account=emulator_account, qualification_type=qtype, worker_id=worker_id
        )
    url = upload_url(emulator_account, qtype)
    data = "WorkerId\n" + "\n".join(holders) + "\nANOTHOLDING001\n"

    refused = lab_admin_client.post(url, {"action": "revoke", "file": csv_file(data)})
    assert refused.status_code == 400
    assert "Say why" in " ".join(refused.context["form"].errors["reason"])

    response = lab_admin_client.post(
        url, {"action": "revoke", "file": csv_file(data), "reason": "Study closed"}
    )
    assert response.status_code == 302
    preview = lab_admin_client.get(response["Location"])
    plan = preview.context["plan"]
    assert [r.worker_id for r in plan.rows] == holders
    assert [s.worker_id for s in plan.skipped] == ["ANOTHOLDING001"]
    upload = GrantUpload.objects.get()
    confirm = reverse(
        "qualification-upload-confirm",
        args=[emulator_account.slug, qtype.qualification_type_id, upload.pk],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = lab_admin_client.post(
            confirm, {"confirmation": preview.context["form"].initial["confirmation"]}
        )
    assert response.status_code == 302
    truth = {
        q["WorkerId"]: q["Status"]
        for q in fresh_emulator.control.truth("qualifications")["qualifications"]
    }
    assert truth == dict.fromkeys(holders, "Revoked")
    assert set(QualificationGrant.objects.values_list("action", "reason", "state")) == {
        ("revoke", "Study closed", IntentState.DONE)
    }


BAD_FILES = [
    pytest.param(b"Worker,Amount\nAWORKER000001,1\n", "lacks the column Value", id="wrong-columns"),
    pytest.param(b"Value\n1\n", "lacks the column WorkerId", id="missing-worker-column"),
    pytest.param(b"WorkerId,Value\n", "has no rows", id="no-rows"),
    pytest.param(b"", "The submitted file is empty.", id="empty"),
    pytest.param(
        "WorkerId,Value\nAWORKER000001,1\n".encode("utf-16"), "not UTF-8", id="wrong-encoding"
    ),
    pytest.param(b"WorkerId,Value\n" + b"AWORKER000001,1\n" * 140_000, "over 2 MB", id="too-big"),
    pytest.param(
        b"WorkerId,Value\nAWORKER000001,high\n", "is not a whole number", id="value-not-a-number"
    ),
    pytest.param(b"WorkerId,Value\nAWORKER000001,2.5\n", "is not a whole number", id="decimal"),
    pytest.param(
        b"WorkerId,Value\nAWORKER000001,2147483648\n", "outside MTurk's range", id="too-large"
    ),
    pytest.param(b"WorkerId,Value\nworker-1,1\n", "Not an MTurk worker id", id="malformed-id"),
    pytest.param(
        b"WorkerId,Value\nAWORKER000001,1\nAWORKER000001,2\n", "same worker as line 2", id="dup"
    ),
    pytest.param(
        b"WorkerId,Value\nAWORKER000001,1\nAWORKER000002,\n", "is not a whole number", id="blank"
    ),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_a_bad_file_is_refused_with_a_report_and_nothing_is_sent(
    lab_admin_client, emulator_account, fresh_emulator, qtype, data, message
):
    before = fresh_emulator.control.truth("calls")["call_counts"]

    response = lab_admin_client.post(
        upload_url(emulator_account, qtype), {"action": "grant", "file": csv_file(data)}
    )

    assert response.status_code == 400
    if "plan" in response.context:
        plan = response.context["plan"]
        report = " ".join([*plan.errors, *(p.message for p in plan.problems)])
        assert "nothing was sent" in response.content.decode()
    else:  # refused by the form itself (an empty upload)
        report = " ".join(response.context["form"].errors["file"])
    assert message in report
    assert not GrantUpload.objects.exists() and not QualificationGrant.objects.exists()
    assert not Job.objects.exists()
    assert fresh_emulator.control.truth("calls")["call_counts"] == before


def test_only_the_uploader_may_preview_and_confirm_and_staff_may_not_upload(
    lab_admin_client, staff_client, emulator_account, qtype, django_user_model
):
    response = lab_admin_client.post(
        upload_url(emulator_account, qtype),
        {"action": "grant", "file": csv_file("WorkerId,Value\nAWORKER000001,1\n")},
    )
    upload = GrantUpload.objects.get()
    staff = staff_client.post(
        upload_url(emulator_account, qtype),
        {"action": "grant", "file": csv_file("WorkerId,Value\nAWORKER000001,1\n")},
    )
    assert staff.status_code == 403
    assert staff_client.get(response["Location"]).status_code == 403

    other_admin = django_user_model.objects.create_user("bob-admin", password="x")
    other_admin.groups.set(emulator_account.members.get(username="alice-admin").groups.all())
    emulator_account.members.add(other_admin)
    from django.test import Client

    bob = Client()
    bob.force_login(other_admin)
    assert bob.get(response["Location"]).status_code == 404
    confirm = reverse(
        "qualification-upload-confirm",
        args=[emulator_account.slug, qtype.qualification_type_id, upload.pk],
    )
    assert bob.post(confirm, {"confirmation": "x"}).status_code == 404
    assert not QualificationGrant.objects.exists()
