"""Copy a study: the publish form prefilled from a batch or a HIT type on record (never from the
URL's values), a GET that writes nothing, a Copy POST that makes the missing template and the
requirements' preset once, and another account's study out of reach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hits.models import HITType
from mturk.requesting import PERCENT_ASSIGNMENTS_APPROVED
from publishing import copying, publish
from publishing.enums import TemplateKind
from publishing.models import PublishBatch, QuestionTemplate, RequirementPreset
from qualifications.enums import LabPurpose
from qualifications.models import QualificationType
from tests.factories import HITFactory, HITTypeFactory
from tests.publishing.publish_fixtures import TEMPLATE_HTML, animal_rows, draft, inputs_csv

pytestmark = pytest.mark.django_db

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/lab-events"
PERCENT_95 = {
    "QualificationTypeId": PERCENT_ASSIGNMENTS_APPROVED,
    "Comparator": "GreaterThanOrEqualTo",
    "IntegerValues": [95],
    "ActionsGuarded": "Accept",
}


def _soft_block_requirement(account) -> dict:
    qtype = QualificationType.objects.create(
        account=account,
        qualification_type_id="3SOFTBLOCK000000000000000000",
        name="Lab soft blocks",
        lab_purpose=LabPurpose.SOFT_BLOCK,
    )
    return {
        "QualificationTypeId": qtype.qualification_type_id,
        "Comparator": "DoesNotExist",
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }


def _batch(account, **settings) -> PublishBatch:
    account.sqs_queue_url = QUEUE
    account.save()
    batch, plan = draft(
        account,
        inputs_csv(animal_rows(2)),
        requirements=[PERCENT_95, _soft_block_requirement(account)],
        micro_batching=True,
        max_assignments=20,
        **settings,
    )
    assert plan.ok, (plan.errors, plan.problems, plan.refusals)
    batch.notification = publish.notification_choice(
        account=account, transport="SQS", event_types=["HITReviewable", "AssignmentSubmitted"]
    )
    batch.review_policies = {"assignment": {"PolicyName": "ScoreMyKnownAnswers/2011-09-01"}}
    batch.save()
    return batch


def _new(client, account, **query):
    return client.get(reverse("publish-new", args=[account.slug]), query)


def _counts() -> tuple[int, int]:
    return QuestionTemplate.objects.count(), RequirementPreset.objects.count()


def test_a_copied_batch_prefills_the_form_and_the_get_writes_nothing(lab_admin_client, account):
    batch = _batch(account)
    before = _counts()

    page = _new(lab_admin_client, account, copy_batch=batch.pk)

    assert page.status_code == 200
    assert _counts() == before
    initial = page.context["form"].initial
    assert initial["label"] == "animals-1 (copy)"
    assert initial["template"] == batch.template_id
    assert {key: initial[key] for key in publish_settings()} == {
        "title": "Is it a cat?",
        "description": "Say whether the animal is of the kind",
        "keywords": "animals, labels",
        "reward": "0.10",
        "max_assignments": 20,
        "assignment_duration_seconds": 600,
        "lifetime_seconds": 86400,
        "auto_approval_delay_seconds": 86400,
    }
    assert initial["micro_batching"] is True
    # The soft-block exclusion is the form's own choice again, not part of the copied preset.
    assert initial["exclude_soft_blocked"] is True and "preset" not in initial
    assert page.context["notify_form"].initial == {
        "transport": "SQS",
        "event_types": ["AssignmentSubmitted", "HITReviewable"],
    }
    copy = page.context["copy"]
    assert copy.requirements == [PERCENT_95] and copy.needs_preset and not copy.ready
    assert copy.review_policies == batch.review_policies
    content = page.content.decode()
    assert 'value="Is it a cat?"' in content
    assert reverse("publish-batch-copy", args=[account.slug, batch.pk]) in content


def publish_settings() -> list[str]:
    return [
        "title",
        "description",
        "keywords",
        "reward",
        "max_assignments",
        "assignment_duration_seconds",
        "lifetime_seconds",
        "auto_approval_delay_seconds",
    ]


def test_the_copy_post_makes_the_preset_once_and_goes_on_to_the_prefilled_form(
    lab_admin_client, account
):
    batch = _batch(account)
    url = reverse("publish-batch-copy", args=[account.slug, batch.pk])

    response = lab_admin_client.post(url)

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("publish-new", args=[account.slug]) + f"?copy_batch={batch.pk}"
    )
    preset = RequirementPreset.objects.get()
    assert preset.name == "Is it a cat? (copied)" and preset.requirements == [PERCENT_95]
    page = lab_admin_client.get(response["Location"])
    assert page.context["form"].initial["preset"] == preset.pk
    assert page.context["copy"].ready
    assert lab_admin_client.post(url).status_code == 302
    assert RequirementPreset.objects.count() == 1  # found again, not made twice


def test_a_batch_whose_template_was_deleted_gets_one_from_its_snapshot(lab_admin_client, account):
    batch = _batch(account)
    batch.template.delete()
    batch.refresh_from_db()

    page = _new(lab_admin_client, account, copy_batch=batch.pk)
    assert page.context["copy"].needs_template and "template" not in page.context["form"].initial
    assert QuestionTemplate.objects.count() == 0

    response = lab_admin_client.post(reverse("publish-batch-copy", args=[account.slug, batch.pk]))

    template = QuestionTemplate.objects.get()
    assert template.name == "animals-1 (copy)"
    assert (template.kind, template.content, template.frame_height) == (
        TemplateKind.HTML,
        TEMPLATE_HTML,
        450,
    )
    page = lab_admin_client.get(response["Location"])
    assert page.context["form"].initial["template"] == template.pk


def test_a_copied_batch_can_be_published_again(lab_admin_client, account):
    batch = _batch(account)
    lab_admin_client.post(reverse("publish-batch-copy", args=[account.slug, batch.pk]))
    copy = copying.copy_of_batch(PublishBatch.objects.get(pk=batch.pk))
    initial = copy.initial

    again, plan = publish.create_draft(
        account=account,
        label=initial["label"],
        template=QuestionTemplate.objects.get(pk=initial["template"]),
        hit_settings={key: initial[key] for key in publish_settings()},
        requirements=publish.requirements_for(
            account=account,
            preset=RequirementPreset.objects.get(pk=initial["preset"]),
            exclude_soft_blocked=initial["exclude_soft_blocked"],
            study_groups=[],
        ),
        micro_batching=initial["micro_batching"],
        inputs_filename="animals.csv",
        inputs=inputs_csv(animal_rows(2)),
        requested_by=None,
    )

    assert plan.ok and again.requirements == batch.requirements


def _external_study(account) -> HITType:
    hit_type = HITTypeFactory(
        account=account,
        hit_type_id="3EXTERNALTYPE000000000000000",
        title="Rate the sentence",
        description="Read a sentence and rate it",
        keywords="rating",
        reward="0.30",
        assignment_duration_seconds=900,
        auto_approval_delay_seconds=3600,
        qualification_requirements=[{**PERCENT_95, "RequiredToPreview": False}],
        notification_transport="SQS",
        notification_destination=QUEUE,
        notification_event_types=["AssignmentSubmitted"],
        notification_active=True,
    )
    created = timezone.now() - timedelta(days=1)
    HITFactory(
        hit_type=hit_type,
        max_assignments=5,
        created_at_mturk=created,
        expires_at=created + timedelta(days=2),
        question=(
            '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/'
            'AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA['
            "<!DOCTYPE html><html><body><form><p>Rate it</p><script>let a=`${x}`;</script>"
            "<input name='rating'></form></body></html>]]></HTMLContent>"
            "<FrameHeight>700</FrameHeight></HTMLQuestion>"
        ),
    )
    return hit_type


def test_a_study_not_published_here_prefills_from_the_mirror_and_its_question(
    lab_admin_client, account
):
    account.sqs_queue_url = QUEUE
    account.save()
    hit_type = _external_study(account)
    before = _counts()

    page = _new(lab_admin_client, account, copy_hit_type=hit_type.hit_type_id)

    assert page.status_code == 200 and _counts() == before
    initial = page.context["form"].initial
    assert {key: initial[key] for key in publish_settings()} == {
        "title": "Rate the sentence",
        "description": "Read a sentence and rate it",
        "keywords": "rating",
        "reward": "0.30",
        "max_assignments": 5,
        "assignment_duration_seconds": 900,
        "lifetime_seconds": 2 * 86400,
        "auto_approval_delay_seconds": 3600,
    }
    assert page.context["notify_form"].initial["transport"] == "SQS"
    copy = page.context["copy"]
    # MTurk's RequiredToPreview is not copied: a requirement as MTurk takes it back.
    assert copy.requirements == [PERCENT_95]
    assert copy.template_draft is not None and copy.template_draft.kind == TemplateKind.HTML
    assert reverse("study-copy", args=[account.slug, hit_type.hit_type_id]) in (
        page.content.decode()
    )

    response = lab_admin_client.post(
        reverse("study-copy", args=[account.slug, hit_type.hit_type_id])
    )

    assert response.status_code == 302
    template = QuestionTemplate.objects.get()
    assert template.name == "Rate the sentence (copy)" and template.frame_height == 700
    # The script's own `${` stays literal: the published question had no variables left.
    assert "let a=`$${x}`;" in template.content
    page = lab_admin_client.get(response["Location"])
    assert page.context["form"].initial["template"] == template.pk
    assert page.context["form"].initial["preset"] == RequirementPreset.objects.get().pk


def test_external_and_questionform_hits_become_templates_of_their_kind(account):
    external = HITFactory.build(
        hit_layout_id="",
        question=(
            '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/'
            'AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">'
            "<ExternalURL>https://lab.example.org/study?x=1</ExternalURL>"
            "<FrameHeight>0</FrameHeight></ExternalQuestion>"
        ),
    )
    form_xml = (
        '<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/'
        'AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"><Question>'
        "<QuestionIdentifier>q1</QuestionIdentifier><QuestionContent><Text>Why?</Text>"
        "</QuestionContent><AnswerSpecification><FreeTextAnswer/></AnswerSpecification>"
        "</Question></QuestionForm>"
    )
    question_form = HITFactory.build(hit_layout_id="", question=form_xml)
    layout = HITFactory.build(question="", hit_layout_id="LAYOUT1", layout_parameters={"a": "1"})

    assert copying._template_from_hit(external, "S") == copying.TemplateDraft(
        "S (copy)", TemplateKind.EXTERNAL, "https://lab.example.org/study?x=1", 0
    )
    assert copying._template_from_hit(question_form, "S") == copying.TemplateDraft(
        "S (copy)", TemplateKind.QUESTION_FORM, form_xml, 600
    )
    assert copying._template_from_hit(layout, "S") == copying.TemplateDraft(
        "S (copy)", TemplateKind.LAYOUT, "", 600, "LAYOUT1", ("a",)
    )


def test_a_study_published_here_is_copied_from_its_batch(lab_admin_client, account):
    batch = _batch(account)
    PublishBatch.objects.filter(pk=batch.pk).update(hit_type_id="3OURTYPE")
    hit_type = HITTypeFactory(account=account, hit_type_id="3OURTYPE", title="Other title")

    page = _new(lab_admin_client, account, copy_hit_type=hit_type.hit_type_id)

    assert page.context["copy"].batch_pk == batch.pk
    assert page.context["form"].initial["title"] == "Is it a cat?"


def test_another_accounts_batch_or_study_is_not_found(
    lab_admin_client, account, other_account, admin_user
):
    theirs = _batch(other_account)
    their_type = _external_study(other_account)
    other_account.members.add(admin_user)  # a member there, still not through this account
    before = _counts()

    assert _new(lab_admin_client, account, copy_batch=theirs.pk).status_code == 404
    assert _new(lab_admin_client, account, copy_hit_type=their_type.hit_type_id).status_code == 404
    assert _new(lab_admin_client, account, copy_batch="not-a-number").status_code == 404
    copy_batch = reverse("publish-batch-copy", args=[account.slug, theirs.pk])
    assert lab_admin_client.post(copy_batch).status_code == 404
    copy_type = reverse("study-copy", args=[account.slug, their_type.hit_type_id])
    assert lab_admin_client.post(copy_type).status_code == 404
    assert _counts() == before


def test_only_publishers_see_and_use_the_copy(lab_admin_client, staff_client, account):
    batch = _batch(account)
    hit_type = _external_study(account)
    copy_url = reverse("publish-batch-copy", args=[account.slug, batch.pk])
    study_copy_url = reverse("study-copy", args=[account.slug, hit_type.hit_type_id])

    staff_batch = staff_client.get(reverse("publish-batch", args=[account.slug, batch.pk]))
    admin_batch = lab_admin_client.get(reverse("publish-batch", args=[account.slug, batch.pk]))
    staff_study = staff_client.get(
        reverse("study-detail", args=[account.slug, hit_type.hit_type_id])
    )
    admin_study = lab_admin_client.get(
        reverse("study-detail", args=[account.slug, hit_type.hit_type_id])
    )

    assert copy_url not in staff_batch.content.decode()
    assert copy_url in admin_batch.content.decode()
    assert study_copy_url not in staff_study.content.decode()
    assert study_copy_url in admin_study.content.decode()
    assert staff_client.post(copy_url).status_code == 403
    assert staff_client.post(study_copy_url).status_code == 403
    assert _new(staff_client, account, copy_batch=batch.pk).status_code == 403
    assert RequirementPreset.objects.count() == 0


def test_a_study_published_elsewhere_is_copied_from_what_the_sync_brought(
    lab_admin_client, emulator_account, fresh_emulator, account_gateway
):
    from mirror.sync import run_sync
    from publishing.questions import render_question

    html = (
        "<!DOCTYPE html><html><body><form name='mturk_form' method='post' "
        "action='https://www.mturk.com/mturk/externalSubmit'><p>Is the sky blue?</p>"
        "<input name='answer'><input type='submit'></form></body></html>"
    )
    question = render_question(
        kind=TemplateKind.HTML, content=html, frame_height=500, layout_id="", inputs={}
    ).question
    hit_type_id = account_gateway.create_hit_type(
        title="Sky colours",
        description="Say what colour the sky is",
        reward="0.05",
        assignment_duration_seconds=300,
        auto_approval_delay_seconds=7200,
        qualification_requirements=[PERCENT_95],
    )
    account_gateway.create_hit_with_hit_type(
        hit_type_id=hit_type_id,
        lifetime_seconds=3600,
        token="elsewhere-1",
        max_assignments=4,
        question=question,
    )
    assert run_sync(account=emulator_account, kind="full").ok

    response = lab_admin_client.post(
        reverse("study-copy", args=[emulator_account.slug, hit_type_id])
    )

    template = QuestionTemplate.objects.get(account=emulator_account)
    assert (template.kind, template.content, template.frame_height) == (
        TemplateKind.HTML,
        html,
        500,
    )
    assert RequirementPreset.objects.get().requirements == [PERCENT_95]
    initial = lab_admin_client.get(response["Location"]).context["form"].initial
    assert (initial["title"], initial["reward"], initial["max_assignments"]) == (
        "Sky colours",
        "0.05",
        4,
    )
    assert initial["lifetime_seconds"] == 3600 and initial["template"] == template.pk
