"""The review workspace views against the emulator: studies, the grid, side by side, decisions."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dashboard.enums import Environment, JobState
from dashboard.jobs import run_job
from dashboard.models import AuditEvent, Job
from hits.models import Assignment, Decision, GridPreference, HITType, RejectionReason
from mirror.sync import run_sync
from mturk.fees import assignment_cost
from tests.hits.test_sync import create_hits, work
from tests.htmlcheck import as_post, confirmation_page, form_data, nested_forms
from workers.models import Worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(emulator_account, account_gateway, fresh_emulator):
    """Two HITs of one study: three workers on the first (two agree), one on the second."""
    first, second = create_hits(account_gateway, 2)
    control = fresh_emulator.control
    work(control, first, "AWORKERONE0001", {"cat": "yes", "comment": "<script>alert(1)</script>"})
    work(control, first, "AWORKERTWO0002", {"cat": "yes", "comment": "fine"})
    work(control, first, "AWORKERTHREE03", {"cat": "no", "comment": ""})
    work(control, second, "AWORKERONE0001", {"cat": "no", "comment": "hmm"})
    assert run_sync(account=emulator_account, kind="full").ok
    return HITType.objects.get(account=emulator_account)


def _grid(client: Client, account, hit_type, **params):
    return client.get(
        reverse("study-detail", kwargs={"slug": account.slug, "hit_type_id": hit_type.hit_type_id}),
        params,
    )


def _bulk_url(account, hit_type) -> str:
    return reverse(
        "bulk-decide", kwargs={"slug": account.slug, "hit_type_id": hit_type.hit_type_id}
    )


def test_study_list_shows_progress_and_answers_htmx_with_the_table(
    staff_client, emulator_account, study
):
    url = reverse("study-list", kwargs={"slug": emulator_account.slug})

    page = staff_client.get(url).content.decode()
    fragment = staff_client.get(url, {"q": "cat"}, headers={"HX-Request": "true"}).content.decode()

    assert "Is this a cat?" in page and "<html" in page
    assert "<strong>4</strong>" in page  # four assignments to review
    assert "<html" not in fragment and 'id="study-table"' in fragment


def test_grid_lists_assignments_with_chosen_columns_and_escapes_answers(
    staff_client, emulator_account, study
):
    body = _grid(staff_client, emulator_account, study).content.decode()

    assert body.count('class="review-row') == 4
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert '<th scope="col">cat</th>' in body and '<th scope="col">comment</th>' in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"worker": "AWORKERONE0001"}, 2),
        ({"status": "Submitted"}, 4),
        ({"status": "Approved"}, 0),
        ({"contains": "fine"}, 1),
        ({"disagrees": "on"}, 1),  # AWORKERTHREE03 said "no" where two said "yes"
        ({"work_time_min": 100000}, 0),
    ],
)
def test_grid_filters(staff_client, emulator_account, study, params, expected):
    response = _grid(staff_client, emulator_account, study, **params)

    assert response.status_code == 200
    assert response.content.decode().count('class="review-row') == expected


def test_grid_htmx_returns_the_grid_fragment(staff_client, emulator_account, study):
    response = staff_client.get(
        reverse(
            "study-detail", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
        ),
        {"worker": "AWORKERTWO0002"},
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert "<html" not in body and body.strip().startswith('<section id="grid"')
    assert body.count('class="review-row') == 1


def test_grid_queries_do_not_grow_with_the_page_size(staff_client, emulator_account, study):
    def queries(page_size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            _grid(staff_client, emulator_account, study, page_size=page_size)
        return len(captured.captured_queries)

    queries(25)  # the first request also works out (and caches) the majority analysis
    assert queries(25) == queries(100) == queries(500)


def test_invalid_filters_are_reported_not_crashing(staff_client, emulator_account, study):
    body = _grid(
        staff_client, emulator_account, study, work_time_min=50, work_time_max=10, page_size=7
    ).content.decode()

    assert "Must be at least the minimum." in body or "Select a valid choice" in body


def test_column_choice_is_kept_per_user(staff_client, staff_user, emulator_account, study):
    url = reverse(
        "study-columns", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    staff_client.post(url, {"columns": ["comment"]})
    body = _grid(staff_client, emulator_account, study).content.decode()

    assert GridPreference.objects.get(user=staff_user, hit_type=study).columns == ["comment"]
    assert '<th scope="col">comment</th>' in body and '<th scope="col">cat</th>' not in body


def test_side_by_side_shows_majority_and_disagreement(staff_client, emulator_account, study):
    hit = study.hits.order_by("pk").first()
    body = staff_client.get(
        reverse("hit-detail", kwargs={"slug": emulator_account.slug, "hit_id": hit.hit_id})
    ).content.decode()

    assert "AWORKERTHREE03" in body and "AWORKERTWO0002" in body
    assert re.search(r"yes\s*<span class=\"muted\">\(2/3\)</span>", body)
    assert body.count('class="answer disagrees"') == 1
    assert "&lt;script&gt;" in body and "<script>alert(1)" not in body


def test_inline_approve_goes_through_a_decision_and_stops_polling(
    staff_client,
    emulator_account,
    study,
    fresh_emulator,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    assignment = Assignment.objects.get(worker__worker_id="AWORKERTWO0002")
    url = reverse(
        "assignment-decide",
        kwargs={"slug": emulator_account.slug, "assignment_id": assignment.assignment_id},
    )
    status_url = reverse(
        "assignment-status",
        kwargs={"slug": emulator_account.slug, "assignment_id": assignment.assignment_id},
    )

    before = _grid(staff_client, emulator_account, study).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cell = staff_client.post(url, {"action": "approve"}, headers={"HX-Request": "true"})
    polling = staff_client.get(status_url, headers={"HX-Request": "true"})
    in_flight = _grid(staff_client, emulator_account, study).content.decode()
    for callback in callbacks:
        callback()  # the worker sends it
    done = staff_client.get(status_url, headers={"HX-Request": "true"})
    after = _grid(staff_client, emulator_account, study).content.decode()

    assert (
        "Approving…" in cell.content.decode() and 'hx-trigger="every 1s"' in cell.content.decode()
    )
    assert polling.status_code == 200
    assert done.status_code == 286 and "Approved" in done.content.decode()
    # The grid shows the decision in flight, then the cost of the approval (its cached analysis
    # is redone when an assignment changes).
    assert in_flight.count("Approving…") == 1 and "Approving…" not in before
    cost = assignment_cost(assignment.hit.reward, assignment.hit.max_assignments)
    assert "spent so far $0.00 " in before and f"spent so far ${cost} " in after
    truth = {
        a["AssignmentId"]: a for a in fresh_emulator.control.truth("assignments")["assignments"]
    }
    assert truth[assignment.assignment_id]["ApproveCount"] == 1
    assert Decision.objects.get(assignment=assignment).state == "done"


def test_reject_needs_a_reason_and_can_save_it(
    staff_client, emulator_account, study, eager_celery, django_capture_on_commit_callbacks
):
    assignment = Assignment.objects.get(worker__worker_id="AWORKERTHREE03")
    url = reverse(
        "assignment-decide",
        kwargs={"slug": emulator_account.slug, "assignment_id": assignment.assignment_id},
    )

    refused = staff_client.post(
        url, {"action": "reject", "feedback": "  "}, headers={"HX-Request": "true"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            url,
            {"action": "reject", "feedback": "Answered before reading", "save_reason": "on"},
            headers={"HX-Request": "true"},
        )

    assert "A rejection needs a reason" in refused.content.decode()
    assignment.refresh_from_db()
    assert (
        assignment.status == "Rejected"
        and assignment.requester_feedback == "Answered before reading"
    )
    assert list(
        RejectionReason.objects.filter(account=emulator_account).values_list("text", flat=True)
    ) == ["Answered before reading"]


def test_undo_rejection_shows_the_deadline(
    staff_client, emulator_account, study, eager_celery, django_capture_on_commit_callbacks
):
    assignment = Assignment.objects.get(worker__worker_id="AWORKERTHREE03")
    url = reverse(
        "assignment-decide",
        kwargs={"slug": emulator_account.slug, "assignment_id": assignment.assignment_id},
    )
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"action": "reject", "feedback": "Wrong"})

    cell = staff_client.get(
        reverse(
            "assignment-status",
            kwargs={"slug": emulator_account.slug, "assignment_id": assignment.assignment_id},
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(url, {"action": "override"})

    assert "Undo rejection" in cell.content.decode() and "until" in cell.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "Approved"


@pytest.fixture
def viewer_client(db, emulator_account, django_user_model):
    """A member who may look but not decide."""
    viewer = django_user_model.objects.create_user("vera-viewer", password="x")
    viewer.user_permissions.add(Permission.objects.get(codename="view_account_data"))
    emulator_account.members.add(viewer)
    client = Client()
    client.force_login(viewer)
    return client


def test_members_without_review_permission_see_no_controls_and_are_refused(
    viewer_client, emulator_account, study
):
    assignment = Assignment.objects.get(worker__worker_id="AWORKERTWO0002")
    body = _grid(viewer_client, emulator_account, study).content.decode()
    post = viewer_client.post(
        reverse(
            "assignment-decide",
            kwargs={"slug": emulator_account.slug, "assignment_id": assignment.assignment_id},
        ),
        {"action": "approve"},
    )
    bulk = viewer_client.post(
        reverse(
            "bulk-decide", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
        ),
        {},
    )

    assert 'data-shortcut="approve"' not in body and "Decide for many" not in body
    assert post.status_code == 403 and bulk.status_code == 403
    assert not Decision.objects.exists()


def test_bulk_approve_selected_rows_confirms_cost_then_runs_a_job(
    staff_client, emulator_account, study, fresh_emulator
):
    chosen = list(
        Assignment.objects.filter(worker__worker_id="AWORKERONE0001").values_list(
            "assignment_id", flat=True
        )
    )
    url = _bulk_url(emulator_account, study)
    form = {"scope": "selected", "selected": chosen, "action": "approve", "feedback": "Thanks"}

    body, confirmed = confirmation_page(staff_client, url, form)
    go = staff_client.post(url, confirmed)

    assert "Approve 2 assignments?" in body
    assert "$0.60" in body  # 2 x ($0.25 + 20%)
    job = Job.objects.get(kind="review.decide")
    assert go.status_code == 302 and go["Location"] == job.get_absolute_url()
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    job.refresh_from_db()
    assert (job.done, job.failed, job.total) == (2, 0, 2)
    truth = {
        a["AssignmentId"]: a for a in fresh_emulator.control.truth("assignments")["assignments"]
    }
    assert [truth[a]["ApproveCount"] for a in chosen] == [1, 1]
    assert Decimal(truth[chosen[0]]["PaidAmount"]) == Decimal("0.25")
    # The job refreshes the worker's counts (once per batch of decisions, not per decision).
    worker = Worker.objects.get(account=emulator_account, worker_id="AWORKERONE0001")
    assert (worker.assignments_approved, worker.assignments_submitted) == (2, 2)
    assert AuditEvent.objects.filter(action="assignment.approve", outcome="succeeded").count() == 2
    results = staff_client.get(
        reverse("decision-results", kwargs={"slug": emulator_account.slug, "pk": job.pk})
    )
    assert "Every decision went through." in results.content.decode()


def test_bulk_over_every_matching_row_follows_the_filter(staff_client, emulator_account, study):
    url = _bulk_url(emulator_account, study)
    form = {"scope": "matching", "action": "reject", "feedback": "Disagrees", "disagrees": "on"}

    body, confirmed = confirmation_page(staff_client, url, form)
    staff_client.post(url, confirmed)

    decisions = Decision.objects.select_related("assignment__worker")
    assert "Reject 1 assignment?" in body
    assert [d.assignment.worker.worker_id for d in decisions] == ["AWORKERTHREE03"]
    assert decisions[0].action == "reject" and decisions[0].feedback == "Disagrees"


def test_a_live_account_asks_for_its_name(staff_client, emulator_account, study):
    emulator_account.environment = Environment.LIVE
    emulator_account.endpoint_url = ""
    emulator_account.save()
    url = _bulk_url(emulator_account, study)
    body, confirmed = confirmation_page(
        staff_client, url, {"scope": "matching", "action": "approve"}
    )

    wrong = staff_client.post(url, {**confirmed, "confirm_name": "nope"})
    _, again = confirmation_page(staff_client, url, {"scope": "matching", "action": "approve"})
    right = staff_client.post(url, {**again, "confirm_name": emulator_account.name})

    assert 'name="confirm_name"' in body
    assert "Type the account name exactly" in wrong.content.decode()
    assert right.status_code == 302
    assert Decision.objects.count() == 4


def test_bulk_without_rows_or_reason_is_refused_clearly(staff_client, emulator_account, study):
    url = reverse(
        "bulk-decide", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    no_rows = staff_client.post(
        url, {"scope": "selected", "action": "approve", "go": "1"}
    ).content.decode()
    no_reason = staff_client.post(
        url, {"scope": "matching", "action": "reject", "go": "1"}
    ).content.decode()

    assert "Tick at least one row" in no_rows
    assert "A rejection needs a reason" in no_reason
    assert not Decision.objects.exists() and not Job.objects.exists()


def _live(account) -> None:
    account.environment = Environment.LIVE
    account.endpoint_url = ""
    account.save()


def _submitted_ids() -> list[str]:
    return list(
        Assignment.objects.filter(status="Submitted")
        .order_by("worker__worker_id", "pk")
        .values_list("assignment_id", flat=True)
    )


def test_a_crafted_link_cannot_add_rows_nor_skip_the_confirmation(
    staff_client, emulator_account, study
):
    """Issue 10, item 1: the grid's query string may carry the filter, nothing else. A link with
    rows, `go` and a live account's name, then the user's click on "Review before sending…" with
    one row ticked, shows the confirmation for that one row and records nothing."""
    _live(emulator_account)
    ticked, *unticked = _submitted_ids()
    crafted = {
        "selected": unticked,
        "go": "1",
        "confirm_name": emulator_account.name,
        "confirmation": "forged",
        "scope": "matching",
        "action": "reject",
        "feedback": "Spam",
        "worker": "",  # a filter field: it may travel
    }

    grid = _grid(staff_client, emulator_account, study, **crafted).content.decode()
    fields, _ = form_data(grid, form_id="bulk-form")
    posted = staff_client.post(
        _bulk_url(emulator_account, study), as_post([*fields, ("selected", ticked)])
    )

    names = [name for name, _ in fields]
    assert not {"selected", "go", "confirm_name", "confirmation"} & set(names)
    assert names.count("scope") == names.count("action") == 1
    assert dict(fields)["scope"] == "selected" and dict(fields)["action"] == "approve"
    assert posted.status_code == 200
    confirmation = posted.content.decode()
    assert "Approve 1 assignment?" in confirmation
    back, _ = form_data(confirmation, action=_bulk_url(emulator_account, study))
    assert [value for name, value in back if name == "selected"] == [ticked]
    assert not [value for name, value in back if name == "confirm_name" and value]
    assert not Decision.objects.exists() and not Job.objects.exists()


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_go_without_the_confirmation_pages_token_records_nothing(
    staff_client, emulator_account, study, token
):
    """`go` and the typed name count only with the token of a confirmation page: without it the
    confirmation page is shown (with a fresh token), and nothing is recorded."""
    _live(emulator_account)
    form = {
        "scope": "selected",
        "selected": _submitted_ids()[1:],
        "action": "reject",
        "feedback": "Spam",
        "go": "1",
        "confirm_name": emulator_account.name,
    }
    if token is not None:
        form["confirmation"] = token

    response = staff_client.post(_bulk_url(emulator_account, study), form)

    body = response.content.decode()
    assert response.status_code == 200 and "Reject 3 assignments?" in body
    assert "this confirmation is no longer valid" in body
    assert re.search(r'name="confirmation" value="[\w-]{40,}"', body)
    assert not Decision.objects.exists() and not Job.objects.exists()


def test_a_confirmation_token_works_once(staff_client, emulator_account, study):
    url = _bulk_url(emulator_account, study)
    _, confirmed = confirmation_page(
        staff_client,
        url,
        {"scope": "selected", "selected": _submitted_ids()[:1], "action": "approve"},
    )

    first = staff_client.post(url, confirmed)
    replay = staff_client.post(url, confirmed)

    assert first.status_code == 302
    assert replay.status_code == 200
    assert "this confirmation is no longer valid" in replay.content.decode()
    assert Job.objects.count() == 1 and Decision.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"selected": "more rows"},
        {"selected": "other rows"},
        {"action": "reject"},
        {"feedback": "Something else"},
        {"scope": "matching"},
    ],
    ids=lambda change: next(iter(change.items()))[1].replace(" ", "-"),
)
def test_a_token_is_refused_for_other_rows_or_another_decision(
    staff_client, emulator_account, study, change
):
    ids = _submitted_ids()
    url = _bulk_url(emulator_account, study)
    _, confirmed = confirmation_page(
        staff_client,
        url,
        {"scope": "selected", "selected": ids[:1], "action": "approve", "feedback": "Thanks"},
    )
    rows = {"more rows": ids[:3], "other rows": ids[1:2]}
    tampered = {
        **confirmed,
        **{key: rows.get(value, value) for key, value in change.items()},
    }

    response = staff_client.post(url, tampered)

    assert response.status_code == 200
    assert "this confirmation is no longer valid" in response.content.decode()
    assert not Decision.objects.exists() and not Job.objects.exists()


def test_a_token_for_every_matching_row_is_bound_to_its_filter(
    staff_client, emulator_account, study
):
    url = _bulk_url(emulator_account, study)
    _, confirmed = confirmation_page(
        staff_client, url, {"scope": "matching", "action": "approve", "worker": "AWORKERTWO0002"}
    )

    wider = staff_client.post(url, {**confirmed, "worker": ""})
    same = staff_client.post(url, confirmed)

    assert wider.status_code == 200
    assert "this confirmation is no longer valid" in wider.content.decode()
    assert same.status_code == 302
    assert list(Decision.objects.values_list("assignment__worker__worker_id", flat=True)) == [
        "AWORKERTWO0002"
    ]


def test_no_page_of_the_review_workspace_nests_a_form(staff_client, emulator_account, study):
    """Issue 10, item 2: a form inside a form is dropped by the HTML parser (row 1's Approve
    submitted the bulk form). The grid's boxes join the bulk form by their form attribute."""
    grid_url = reverse(
        "study-detail", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )
    hit = study.hits.order_by("pk").first()
    pages = {
        "grid": staff_client.get(grid_url),
        "grid fragment": staff_client.get(grid_url, headers={"HX-Request": "true"}),
        "hit": staff_client.get(
            reverse("hit-detail", kwargs={"slug": emulator_account.slug, "hit_id": hit.hit_id})
        ),
        "confirmation": staff_client.post(
            _bulk_url(emulator_account, study),
            {"scope": "selected", "selected": _submitted_ids()[:1], "action": "approve"},
        ),
    }

    for name, response in pages.items():
        assert response.status_code == 200, name
        assert nested_forms(response.content.decode()) == [], name
    grid = pages["grid"].content.decode()
    assert grid.count('type="checkbox" name="selected" value=') == 4
    assert grid.count('form="bulk-form"') == 4
    assert grid.count('data-shortcut="approve"') == 4


def test_the_key_hint_lists_every_shortcut(staff_client, emulator_account, study):
    script = (Path(__file__).resolve().parents[2] / "static/js/review.js").read_text()
    keys = set(re.findall(r'case "(\w)"', script))

    body = _grid(staff_client, emulator_account, study).content.decode()
    hint = re.search(r"Keys: ([^<]*)", body)

    assert keys == set("jkarpnb")
    assert hint is not None
    assert {word for word in re.findall(r"\w+", hint.group(1)) if len(word) == 1} == keys


@pytest.mark.parametrize("kind", ["hit", "assignment", "worker", "nothing"])
def test_search_finds_hits_assignments_and_workers(staff_client, emulator_account, study, kind):
    assignment = Assignment.objects.select_related("hit", "worker").first()
    q = {
        "hit": assignment.hit.hit_id,
        "assignment": assignment.assignment_id,
        "worker": assignment.worker.worker_id,
        "nothing": "ZZZ",
    }[kind]

    response = staff_client.get(reverse("search", kwargs={"slug": emulator_account.slug}), {"q": q})

    assert response.status_code == 302
    location = response["Location"]
    if kind == "hit":
        assert location.endswith(f"/hits/{assignment.hit.hit_id}/")
    elif kind == "assignment":
        assert location.endswith(f"#a-{assignment.assignment_id}")
    elif kind == "worker":
        assert location.endswith(f"?worker={assignment.worker.worker_id}")
    else:
        assert location == emulator_account.get_absolute_url()


def test_study_page_draws_its_pictures(staff_client, emulator_account, study):
    body = _grid(staff_client, emulator_account, study).content.decode()

    assert body.count('<svg class="chart"') == 3
    assert "Submissions over time" in body and "Work time distribution" in body
    assert "cat: " in body  # the agreement bar of the "cat" field has its share as a tooltip


def test_charts_escape_field_names():
    from hits.charts import agreement_per_field

    svg = str(agreement_per_field({"<script>x</script>": 0.5}))

    assert "<script>x" not in svg and "&lt;script&gt;" in svg


# --- CSV round trip through the views -------------------------------------------------------------


def _download(client, account, hit_type, **params) -> str:
    response = client.get(
        reverse(
            "results-download", kwargs={"slug": account.slug, "hit_type_id": hit_type.hit_type_id}
        ),
        params,
    )
    assert response.status_code == 200 and response.streaming
    return b"".join(response.streaming_content).decode()


def test_results_download_csv_and_jsonl(staff_client, emulator_account, study):
    import csv
    import io
    import json

    text = _download(staff_client, emulator_account, study)
    lines = _download(staff_client, emulator_account, study, format="jsonl").splitlines()
    filtered = _download(staff_client, emulator_account, study, worker="AWORKERTWO0002")

    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4 and rows[0].keys() >= {
        "HITId",
        "AssignmentId",
        "WorkerId",
        "Answer.cat",
        "Approve",
        "Reject",
    }
    assert len(lines) == 4 and json.loads(lines[0])["AssignmentId"]
    assert len(list(csv.DictReader(io.StringIO(filtered)))) == 1


def test_upload_previews_then_decides_exactly_the_marked_rows_once(
    staff_client, emulator_account, study, fresh_emulator
):
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = list(csv.DictReader(io.StringIO(_download(staff_client, emulator_account, study))))
    for row in rows:
        if row["WorkerId"] == "AWORKERTWO0002":
            row["Approve"] = "X"
        elif row["WorkerId"] == "AWORKERTHREE03":
            row["Reject"] = "Did not look at the picture"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0].keys()), quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(rows)
    url = reverse(
        "results-upload", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    preview = staff_client.post(
        url, {"file": SimpleUploadedFile("results.csv", out.getvalue().encode())}
    )

    body = preview.content.decode()
    assert (
        "To approve</dt><dd><strong>1</strong>" in body
        and "To reject</dt><dd><strong>1</strong>" in body
    )
    assert not Decision.objects.exists()  # nothing happens before the confirmation
    confirm_url = re.search(r'action="([^"]+/confirm/)"', body).group(1)
    first = staff_client.post(confirm_url)
    second = staff_client.post(confirm_url)
    job = Job.objects.get(kind="review.decide")
    assert first["Location"] == second["Location"] == job.get_absolute_url()
    assert run_job(job_id=job.pk) == JobState.SUCCEEDED
    decided = dict(
        Assignment.objects.exclude(status="Submitted").values_list("worker__worker_id", "status")
    )
    assert decided == {"AWORKERTWO0002": "Approved", "AWORKERTHREE03": "Rejected"}
    truth = {
        a["WorkerId"]: a
        for a in fresh_emulator.control.truth("assignments")["assignments"]
        if a["WorkerId"] == "AWORKERTWO0002"
    }
    assert truth["AWORKERTWO0002"]["ApproveCount"] == 1


def test_a_bad_upload_gets_a_report_and_changes_nothing(staff_client, emulator_account, study):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse(
        "results-upload", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    latin1 = staff_client.post(
        url,
        {
            "file": SimpleUploadedFile(
                "r.csv", "AssignmentId,Approve,Reject\nx,é,\n".encode("latin-1")
            )
        },
    )
    no_columns = staff_client.post(url, {"file": SimpleUploadedFile("r.csv", b"foo,bar\n1,2\n")})

    assert "The file was refused; nothing changed" in latin1.content.decode()
    assert "The file was refused; nothing changed" in no_columns.content.decode()
    assert not Decision.objects.exists()


def test_columns_follow_the_order_the_user_numbers(
    staff_client, staff_user, emulator_account, study
):
    url = reverse(
        "study-columns", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    staff_client.post(
        url, {"columns": ["cat", "comment"], "position_cat": "2", "position_comment": "1"}
    )
    body = _grid(staff_client, emulator_account, study).content.decode()

    assert GridPreference.objects.get(user=staff_user, hit_type=study).columns == ["comment", "cat"]
    assert body.index('<th scope="col">comment</th>') < body.index('<th scope="col">cat</th>')


@pytest.mark.parametrize("position", ["²", "٣٣٣٣", "-1", "0", "1000", "abc", "1.5", "9" * 5000])
def test_a_bad_column_position_is_a_400_with_a_message(
    staff_client, staff_user, emulator_account, study, position
):
    """Issue 10, item 11: "²" is a digit to str.isdigit and no number to int (it was a 500). A
    position the page's number inputs cannot send is refused with the reason; nothing is saved."""
    url = reverse(
        "study-columns", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    response = staff_client.post(
        url, {"columns": ["cat", "comment"], "position_cat": position, "position_comment": "1"}
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "The columns were not saved" in body and "Position of cat:" in body
    assert not GridPreference.objects.filter(user=staff_user, hit_type=study).exists()


def test_an_unknown_column_is_a_400_with_a_message(
    staff_client, staff_user, emulator_account, study
):
    url = reverse(
        "study-columns", kwargs={"slug": emulator_account.slug, "hit_type_id": study.hit_type_id}
    )

    response = staff_client.post(url, {"columns": ["cat", "no-such-field"]})

    assert response.status_code == 400
    assert "no-such-field is not one of the available choices" in response.content.decode()
    assert not GridPreference.objects.filter(user=staff_user, hit_type=study).exists()
