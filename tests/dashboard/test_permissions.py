"""The permission matrix: every account view, every persona, allowed and forbidden paths."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dashboard.enums import RESEARCH_STAFF_ACTIONS, Action
from dashboard.jobs import job_handler, start_job
from dashboard.models import RequesterAccount
from dashboard.permissions import allowed_actions, user_can
from tests.htmlcheck import nested_forms

pytestmark = pytest.mark.django_db


@job_handler("tests.noop")
def _noop(job, progress):
    return {}


# Every named page of an account, with the action it needs. New views must be added here:
# test_every_account_view_is_in_the_matrix fails otherwise.
ACCOUNT_VIEWS = {
    "account-overview": Action.VIEW,
    "account-edit": Action.MANAGE_ACCOUNTS,
    "account-members": Action.MANAGE_USERS,
    "audit-log": Action.VIEW,
    "job-list": Action.VIEW,
    "job-detail": Action.VIEW,
    "account-notifications": Action.MANAGE_ACCOUNTS,
    "hit-preview": Action.PREVIEW,
    "assignment-replay": Action.PREVIEW,
    "study-list": Action.VIEW,
    "study-detail": Action.VIEW,
    "batch-list": Action.VIEW,
    "hit-list": Action.VIEW,
    "hit-detail": Action.VIEW,
    "hit-manage": Action.PUBLISH,
    "study-disagreements": Action.PUBLISH,
    "assignment-status": Action.VIEW,
    "decision-results": Action.VIEW,
    "results-download": Action.EXPORT,
    "results-upload": Action.REVIEW,
    "search": Action.VIEW,
    "worker-list": Action.VIEW,
    "worker-detail": Action.VIEW,
    "worker-block": Action.MANAGE_WORKERS,
    "workers-block-upload": Action.MANAGE_WORKERS,
    "study-group-list": Action.VIEW,
    "study-group-detail": Action.VIEW,
    "study-group-create": Action.MANAGE_WORKERS,
    "study-group-edit": Action.MANAGE_WORKERS,
    "bonus-ledger": Action.VIEW,
    "bonus-run": Action.VIEW,
    "bonus-upload": Action.PAY_BONUSES,
    "bonus-run-preview": Action.PAY_BONUSES,
    "publish-list": Action.VIEW,
    "publish-new": Action.PUBLISH,
    "publish-batch": Action.VIEW,
    "bonus-pay": Action.PAY_BONUSES,
    "message-list": Action.VIEW,
    "message-template-list": Action.VIEW,
    "message-compose": Action.MANAGE_WORKERS,
    "message-template-create": Action.MANAGE_WORKERS,
    "message-template-edit": Action.MANAGE_WORKERS,
    "preset-list": Action.VIEW,
    "preset-create": Action.PUBLISH,
    "preset-edit": Action.PUBLISH,
    "worker-message": Action.MANAGE_WORKERS,
    "qualification-requests": Action.VIEW,
    "study-qualify": Action.MANAGE_QUALIFICATIONS,
    "qualification-test-edit": Action.MANAGE_QUALIFICATIONS,
    # GET shows the saved test (research staff preview questions); POSTing unsaved work needs
    # MANAGE_QUALIFICATIONS (tests/qualifications/test_test_editor.py).
    "qualification-test-preview": Action.PREVIEW,
    "qualification-list": Action.VIEW,
    "qualification-detail": Action.VIEW,
    "qualification-workers-download": Action.EXPORT,
    "qualification-create": Action.MANAGE_QUALIFICATIONS,
    "qualification-edit": Action.MANAGE_QUALIFICATIONS,
    "qualification-dispose": Action.MANAGE_QUALIFICATIONS,
    "qualification-worker": Action.MANAGE_QUALIFICATIONS,
    "qualification-grant-upload": Action.MANAGE_QUALIFICATIONS,
    "qualification-upload-preview": Action.MANAGE_QUALIFICATIONS,
    "template-list": Action.VIEW,
    "template-detail": Action.VIEW,
    "template-create": Action.PUBLISH,
    "template-edit": Action.PUBLISH,
    "template-build": Action.PUBLISH,
    "template-build-edit": Action.PUBLISH,
    # GET and POST (sample values) both only preview: research staff may
    # (tests/publishing/test_templates.py).
    "template-preview": Action.PREVIEW,
}
# What an allowed user gets where it is not a plain 200 page.
ALLOWED_STATUS = {"search": 302}
# Views that only take POST, with the status an allowed user gets for an empty (invalid) post.
ACCOUNT_POST_VIEWS = {
    "sync-now": (Action.VIEW, 302),
    "notifications-configure": (Action.MANAGE_ACCOUNTS, 200),
    "notifications-test": (Action.MANAGE_ACCOUNTS, 200),
    "notifications-wire-emulator": (Action.MANAGE_ACCOUNTS, 302),
    "study-columns": (Action.VIEW, 302),
    "bulk-decide": (Action.REVIEW, 200),
    "assignment-decide": (Action.REVIEW, 302),
    # Posting to an upload that does not exist: a member who may review gets 404.
    "results-upload-confirm": (Action.REVIEW, 404),
    # Notes and tags: an empty note or tag is refused with the page and its errors.
    "worker-note-add": (Action.REVIEW, 400),
    "worker-tag-add": (Action.REVIEW, 400),
    "worker-tag-remove": (Action.REVIEW, 302),
    # No ticked rows: back with a message. No workers listed: a 400 page, nothing sent.
    "workers-block-selected": (Action.MANAGE_WORKERS, 302),
    "workers-block-confirm": (Action.MANAGE_WORKERS, 400),
    "hits-manage-selected": (Action.PUBLISH, 302),
    "hits-manage-confirm": (Action.PUBLISH, 400),
    "assignment-file-download": (Action.EXPORT, 400),
    # Nothing to exclude: back to the group's page.
    "study-group-exclude": (Action.MANAGE_WORKERS, 302),
    # An unconfirmed post: the preview again (400), with why nothing was paid.
    "bonus-run-confirm": (Action.PAY_BONUSES, 400),
    # An unconfirmed post: the batch's page again (400), with why nothing was published.
    "publish-batch-confirm": (Action.PUBLISH, 400),
    # Copying makes what the copy lacks, then goes on to the publish form prefilled.
    "publish-batch-copy": (Action.PUBLISH, 302),
    "study-copy": (Action.PUBLISH, 302),
    # Nothing to send: the compose page with its errors.
    "message-send": (Action.MANAGE_WORKERS, 400),
    # No ticked rows: the compose page, with no recipients yet.
    "message-compose-from-study": (Action.MANAGE_WORKERS, 200),
    "message-template-delete": (Action.MANAGE_WORKERS, 302),
    "preset-delete": (Action.PUBLISH, 302),
    # Deciding a request that does not exist: a member who may decide gets 404.
    "qualification-request-decide": (Action.MANAGE_QUALIFICATIONS, 404),
    # No ticked requests, or an unconfirmed post: a 400 page that says why, nothing sent.
    "qualification-requests-bulk": (Action.MANAGE_QUALIFICATIONS, 400),
    "qualification-requests-confirm": (Action.MANAGE_QUALIFICATIONS, 400),
    # Derived and grid grants: an empty post is the form again with its errors (400); no ticked
    # rows is back to the study with a message.
    "study-qualify-confirm": (Action.MANAGE_QUALIFICATIONS, 400),
    "study-qualify-selected": (Action.MANAGE_QUALIFICATIONS, 302),
    "study-qualify-selected-confirm": (Action.MANAGE_QUALIFICATIONS, 400),
    # An unconfirmed post: the preview again (400), with why nothing was sent.
    "qualification-upload-confirm": (Action.MANAGE_QUALIFICATIONS, 400),
    "template-delete": (Action.PUBLISH, 302),
    # An empty post saves no sample value: back to the template.
    "template-samples": (Action.PUBLISH, 302),
    # An empty post: the preview page says what is missing (400), nothing drawn.
    "template-draft-preview": (Action.PUBLISH, 400),
    "template-build-preview": (Action.PUBLISH, 400),
}


def _url(name: str, account: RequesterAccount) -> str:
    kwargs = {"slug": account.slug}
    if name == "job-detail":
        job = account.jobs.first() or start_job(account=account, kind="tests.noop", title="No-op")
        kwargs["pk"] = job.pk
    if name == "decision-results":
        job = account.jobs.filter(kind="review.decide").first() or start_job(
            account=account, kind="review.decide", title="Decide"
        )
        kwargs["pk"] = job.pk
    if name in ("hit-preview", "assignment-replay", "hit-detail", "hit-manage"):
        assignment = _assignment(account)
        kwargs["hit_id"] = assignment.hit.hit_id
        if name == "assignment-replay":
            kwargs["assignment_id"] = assignment.assignment_id
    if name in ("assignment-status", "assignment-decide"):
        kwargs["assignment_id"] = _assignment(account).assignment_id
    if name in (
        "study-detail",
        "study-columns",
        "bulk-decide",
        "results-download",
        "results-upload",
        "results-upload-confirm",
        "study-qualify",
        "study-qualify-confirm",
        "study-qualify-selected",
        "study-qualify-selected-confirm",
        "study-disagreements",
        "study-copy",
    ):
        kwargs["hit_type_id"] = _assignment(account).hit_type.hit_type_id
    if name == "results-upload-confirm":
        kwargs["upload_id"] = 999999
    if name in ("worker-detail", "worker-note-add", "worker-tag-add", "worker-tag-remove"):
        kwargs["worker_id"] = _assignment(account).worker.worker_id
    if name == "worker-block":
        kwargs["worker_id"] = "AMATRIXWORKER"
    if name == "qualification-request-decide":
        kwargs["request_id"] = "MATRIXREQUEST"
    if name in ("bonus-pay", "assignment-file-download"):
        kwargs["assignment_id"] = _assignment(account).assignment_id
    if name == "worker-message":
        kwargs["worker_id"] = _assignment(account).worker.worker_id
    if name == "message-compose-from-study":
        kwargs["hit_type_id"] = _assignment(account).hit_type.hit_type_id
    if name in ("bonus-run", "bonus-run-preview", "bonus-run-confirm"):
        from people.models import BonusRun

        # Preview and confirm answer only the lab admin who uploaded the file.
        uploader = account.members.get(username="alice-admin")
        run, _ = BonusRun.objects.get_or_create(
            account=account,
            filename="matrix.csv",
            defaults={"content": b"", "created_by": uploader},
        )
        kwargs["pk"] = run.pk
    if name in ("publish-batch", "publish-batch-confirm", "publish-batch-copy"):
        from publishing.models import PublishBatch

        batch, _ = PublishBatch.objects.get_or_create(
            account=account,
            label="Matrix batch",
            defaults={"template_kind": "html", "hit_settings": {"reward": "0.10"}},
        )
        kwargs["pk"] = batch.pk
    if name in ("message-template-edit", "message-template-delete"):
        from people.models import MessageTemplate

        template, _ = MessageTemplate.objects.get_or_create(
            account=account, name="Matrix", defaults={"subject": "Hello", "body": "Thanks"}
        )
        kwargs["pk"] = template.pk
    if name in ("preset-edit", "preset-delete"):
        from publishing.models import RequirementPreset

        preset, _ = RequirementPreset.objects.get_or_create(account=account, name="Matrix")
        kwargs["pk"] = preset.pk
    if name in ("study-group-detail", "study-group-edit", "study-group-exclude"):
        from people.models import StudyGroup

        group, _ = StudyGroup.objects.get_or_create(account=account, name="Matrix group")
        kwargs["pk"] = group.pk
    if name in ("qualification-test-edit", "qualification-test-preview"):
        from qualifications.models import QualificationType

        qtype, _ = QualificationType.objects.get_or_create(
            account=account, qualification_type_id="MATRIXQUALTYPE", defaults={"name": "Matrix"}
        )
        kwargs["qualification_type_id"] = qtype.qualification_type_id
    if name in (
        "qualification-detail",
        "qualification-edit",
        "qualification-dispose",
        "qualification-workers-download",
        "qualification-worker",
        "qualification-grant-upload",
        "qualification-upload-preview",
        "qualification-upload-confirm",
    ):
        from qualifications.models import GrantUpload, QualificationType

        qtype, _ = QualificationType.objects.get_or_create(
            account=account, qualification_type_id="MATRIXQTYPE1", defaults={"name": "Matrix"}
        )
        kwargs["type_id"] = qtype.qualification_type_id
        if name == "qualification-worker":
            kwargs["worker_id"] = "AMATRIXWORKER"
        if name in ("qualification-upload-preview", "qualification-upload-confirm"):
            # Preview and confirm answer only the lab admin who uploaded the file.
            upload, _ = GrantUpload.objects.get_or_create(
                account=account,
                qualification_type=qtype,
                filename="matrix.csv",
                defaults={
                    "action": "grant",
                    "content": b"WorkerId,Value\nAMATRIXWORKER,1\n",
                    "created_by": account.members.get(username="alice-admin"),
                },
            )
            kwargs["pk"] = upload.pk
    if name == "template-build-edit":
        from publishing.models import QuestionTemplate
        from publishing.questions import build_question_form_xml

        spec = {"questions": [{"identifier": "q", "text": "${item}?", "answer": "free_text"}]}
        template, _ = QuestionTemplate.objects.get_or_create(
            account=account,
            name="Matrix built",
            defaults={
                "kind": "questionform",
                "content": build_question_form_xml(spec),
                "builder_spec": spec,
            },
        )
        kwargs["pk"] = template.pk
    if name in (
        "template-detail",
        "template-edit",
        "template-delete",
        "template-preview",
        "template-samples",
    ):
        from publishing.models import QuestionTemplate

        template, _ = QuestionTemplate.objects.get_or_create(
            account=account,
            name="Matrix",
            defaults={"kind": "html", "content": "<p>${item}</p>"},
        )
        kwargs["pk"] = template.pk
    return reverse(name, kwargs=kwargs)


def _assignment(account: RequesterAccount):
    """One mirrored HIT with one submitted assignment, for views that take their ids."""
    from hits.models import HIT, Assignment, HITType
    from workers.models import Worker

    hit_type, _ = HITType.objects.get_or_create(account=account, hit_type_id="MATRIXTYPE")
    hit, _ = HIT.objects.get_or_create(
        account=account, hit_id="MATRIXHIT", defaults={"hit_type": hit_type, "status": "Reviewable"}
    )
    worker, _ = Worker.objects.get_or_create(account=account, worker_id="AMATRIXWORKER")
    assignment, _ = Assignment.objects.get_or_create(
        account=account,
        assignment_id="MATRIXASSIGNMENT",
        defaults={"hit": hit, "hit_type": hit_type, "worker": worker, "status": "Submitted"},
    )
    return assignment


def _expected(persona: str, action: Action) -> int:
    if persona == "anonymous":
        return 302
    if persona == "other_staff":
        return 404
    if persona == "staff":
        return 200 if action in RESEARCH_STAFF_ACTIONS else 403
    return 200


@pytest.mark.parametrize("persona", ["anonymous", "staff", "admin", "other_staff"])
@pytest.mark.parametrize("view_name", sorted(ACCOUNT_VIEWS))
def test_account_view_permission_matrix(personas, account, other_account, persona, view_name):
    response = personas[persona].get(_url(view_name, account))

    expected = _expected(persona, ACCOUNT_VIEWS[view_name])
    assert response.status_code == (
        ALLOWED_STATUS.get(view_name, 200) if expected == 200 else expected
    )
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))


# Answers that are not pages of our templates: a CSV download, the requester's own question HTML,
# a redirect.
NOT_OUR_PAGES = {
    "results-download",
    "qualification-workers-download",
    "hit-preview",
    "assignment-replay",
    "search",
}


@pytest.mark.parametrize("view_name", sorted(set(ACCOUNT_VIEWS) - NOT_OUR_PAGES))
def test_no_account_page_nests_a_form(lab_admin_client, account, view_name):
    """DESIGN: no form is nested in another (the HTML parser drops the inner one)."""
    response = lab_admin_client.get(_url(view_name, account))

    assert response.status_code == 200
    assert nested_forms(response.content.decode()) == []


@pytest.mark.parametrize("view_name", sorted(ACCOUNT_VIEWS))
def test_unknown_account_answers_404_even_to_admins(lab_admin_client, account, view_name):
    url = _url(view_name, account).replace("/a/lab/", "/a/no-such-lab/")

    assert lab_admin_client.get(url).status_code == 404


def test_job_of_another_account_answers_404(lab_admin_client, account, other_account, admin_user):
    other_account.members.add(admin_user)
    foreign_job = start_job(account=other_account, kind="tests.noop", title="Elsewhere")

    url = reverse("job-detail", kwargs={"slug": account.slug, "pk": foreign_job.pk})
    assert lab_admin_client.get(url).status_code == 404


def test_every_account_view_is_in_the_matrix():
    def names(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from names(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + str(pattern.pattern), pattern.name

    account_views = {
        name
        for route, name in names(get_resolver().url_patterns)
        if route.startswith("a/<slug:slug>/")
    }

    assert account_views == set(ACCOUNT_VIEWS) | set(ACCOUNT_POST_VIEWS)


@pytest.mark.parametrize("persona", ["anonymous", "staff", "admin", "other_staff"])
@pytest.mark.parametrize("view_name", sorted(ACCOUNT_POST_VIEWS))
def test_post_view_permission_matrix(personas, account, other_account, persona, view_name):
    action, allowed_status = ACCOUNT_POST_VIEWS[view_name]
    url = _url(view_name, account)

    response = personas[persona].post(_url(view_name, account), {})

    expected = _expected(persona, action)
    assert response.status_code == (allowed_status if expected == 200 else expected)
    if persona == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    assert personas[persona].get(url).status_code == 405


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 302), ("staff", 403), ("other_staff", 403), ("admin", 200)],
)
def test_account_create_needs_manage_accounts(personas, account, other_account, persona, expected):
    assert personas[persona].get(reverse("account-create")).status_code == expected


def test_staff_post_to_settings_is_refused_and_changes_nothing(staff_client, account):
    response = staff_client.post(
        reverse("account-edit", kwargs={"slug": account.slug}), {"name": "Hijacked", "slug": "lab"}
    )

    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "Vision Lab"


def test_staff_post_to_members_is_refused_and_changes_nothing(
    staff_client, account, other_staff_user
):
    response = staff_client.post(
        reverse("account-members", kwargs={"slug": account.slug}),
        {"username": other_staff_user.username},
    )

    assert response.status_code == 403
    assert not account.members.filter(pk=other_staff_user.pk).exists()


def test_user_can_follows_membership_and_role(
    account, other_account, staff_user, admin_user, other_staff_user
):
    assert user_can(staff_user, Action.REVIEW, account)
    assert not user_can(staff_user, Action.PAY_BONUSES, account)
    assert user_can(admin_user, Action.PAY_BONUSES, account)
    assert not user_can(other_staff_user, Action.VIEW, account)
    assert allowed_actions(staff_user, account) == frozenset(
        a.value for a in RESEARCH_STAFF_ACTIONS
    )
    assert allowed_actions(admin_user, account) == frozenset(a.value for a in Action)


def test_a_member_without_a_role_sees_nothing(account, django_user_model):
    from django.test import Client

    roleless = django_user_model.objects.create_user("dave-norole", password="x")
    account.members.add(roleless)
    client = Client()
    client.force_login(roleless)

    assert client.get(reverse("account-overview", kwargs={"slug": account.slug})).status_code == 403


def test_inactive_user_sees_no_account(account, staff_user):
    staff_user.is_active = False
    staff_user.save()

    assert not user_can(staff_user, Action.VIEW, account)
    assert list(RequesterAccount.objects.visible_to(staff_user)) == []
