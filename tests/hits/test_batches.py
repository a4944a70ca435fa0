"""Batches: recognised by sync from the HITs' annotations, listed with their progress, and a
scope for the review grid, its downloads and its bulk decisions."""

from __future__ import annotations

import csv
import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse

from dashboard.models import Job
from hits.models import HIT, Assignment, Batch, Decision, HITType
from hits.sync import sync_full
from mirror.sync import run_sync
from mturk.fees import assignment_cost
from tests.hits.test_sync import create_hits, work
from tests.htmlcheck import confirmation_page

pytestmark = pytest.mark.django_db

PILOT = "batch:pilot;item:{n}"
WEBSITE = "BatchId:777;OriginalHitTemplateId:1;"


@pytest.fixture
def batched(emulator_account, account_gateway, fresh_emulator):
    """One study: two HITs in batch "pilot", one in the Requester website's batch 777, one in none.
    Worker ONE answers in the pilot, TWO in batch 777, THREE outside any batch."""
    pilot = create_hits(account_gateway, 2, annotation=PILOT)
    website = create_hits(account_gateway, 1, annotation=WEBSITE)
    loose = create_hits(account_gateway, 1)
    control = fresh_emulator.control
    work(control, pilot[0], "AWORKERONE0001", {"cat": "yes"})
    work(control, pilot[1], "AWORKERONE0001", {"cat": "no"})
    work(control, website[0], "AWORKERTWO0002", {"cat": "yes"})
    work(control, loose[0], "AWORKERTHREE03", {"cat": "yes"})
    assert run_sync(account=emulator_account, kind="full").ok
    return {
        "hit_type": HITType.objects.get(account=emulator_account),
        "pilot": Batch.objects.get(account=emulator_account, key="batch:pilot"),
        "website": Batch.objects.get(account=emulator_account, key="BatchId:777"),
        "loose": loose[0],
    }


def _grid(client, account, hit_type, **params):
    url = reverse(
        "study-detail", kwargs={"slug": account.slug, "hit_type_id": hit_type.hit_type_id}
    )
    return client.get(url, params).content.decode()


def test_sync_puts_hits_in_the_batches_their_annotations_name(
    emulator_account, account_gateway, batched
):
    pilot, website = batched["pilot"], batched["website"]

    assert (pilot.name, pilot.source) == ("pilot", "annotation")
    assert (website.name, website.source) == ("Batch 777", "requester-website")
    assert pilot.hits.count() == 2 and website.hits.count() == 1
    assert HIT.objects.get(hit_id=batched["loose"]).batch is None
    assert {pilot.hit_type, website.hit_type} == {batched["hit_type"]}

    again = sync_full(account=emulator_account, gateway=account_gateway)

    assert Batch.objects.count() == 2 and again.hits_updated == 0


def test_the_migration_puts_hits_already_mirrored_into_their_batches(batched):
    HIT.objects.update(batch=None)
    Batch.objects.all().delete()
    migration = importlib.import_module("hits.migrations.0003_batches")

    migration.assign_existing_hits(apps, None)

    assert sorted(Batch.objects.values_list("key", "name", "source")) == [
        ("BatchId:777", "Batch 777", "requester-website"),
        ("batch:pilot", "pilot", "annotation"),
    ]
    assert HIT.objects.filter(batch__key="batch:pilot").count() == 2
    assert HIT.objects.filter(batch__isnull=True).count() == 1


def test_batch_list_shows_progress_and_cost_and_answers_htmx(
    staff_client, emulator_account, batched
):
    approved = Assignment.objects.get(worker__worker_id="AWORKERTWO0002")
    Assignment.objects.filter(pk=approved.pk).update(status="Approved")
    url = reverse("batch-list", kwargs={"slug": emulator_account.slug})

    page = staff_client.get(url).content.decode()
    fragment = staff_client.get(
        url, {"q": "pilot"}, headers={"HX-Request": "true"}
    ).content.decode()

    cost = assignment_cost(Decimal("0.25"), 3)
    assert "<html" in page and "pilot" in page and "Batch 777" in page
    assert "Requester website" in page
    assert f"${cost}" in page and "$0.00" in page  # batch 777 has one approval, the pilot none
    assert f"?batch={batched['pilot'].pk}" in page
    assert "<html" not in fragment and 'id="batch-table"' in fragment
    assert "pilot" in fragment and "Batch 777" not in fragment


def test_batch_list_says_how_hits_join_a_batch_when_there_are_none(
    staff_client, emulator_account, account_gateway, fresh_emulator
):
    create_hits(account_gateway, 1)
    assert run_sync(account=emulator_account, kind="full").ok

    body = staff_client.get(
        reverse("batch-list", kwargs={"slug": emulator_account.slug})
    ).content.decode()

    assert "No batches" in body and "<code>batch:</code>" in body


def test_a_hit_page_links_to_its_batch(staff_client, emulator_account, batched):
    hit = batched["pilot"].hits.first()

    body = staff_client.get(
        reverse("hit-detail", kwargs={"slug": emulator_account.slug, "hit_id": hit.hit_id})
    ).content.decode()

    assert f'?batch={batched["pilot"].pk}">batch pilot</a>' in body


def test_the_grid_of_a_batch_covers_only_its_rows_workers_and_cost(
    staff_client, emulator_account, batched
):
    hit_type, pilot = batched["hit_type"], batched["pilot"]

    whole = _grid(staff_client, emulator_account, hit_type)
    scoped = _grid(staff_client, emulator_account, hit_type, batch=pilot.pk)
    unknown = _grid(staff_client, emulator_account, hit_type, batch=999999)

    assert whole.count('class="review-row') == 4 and "Batch: pilot" not in whole
    assert scoped.count('class="review-row') == 2 and "Batch: pilot" in scoped
    assert "AWORKERTWO0002" not in scoped and "AWORKERTHREE03" not in scoped
    # A worker's link (in the grid and in the summaries) stays within the batch.
    assert scoped.count(f'href="?batch={pilot.pk}&amp;worker=AWORKERONE0001"') == 3
    assert "Select a valid choice" in unknown


def test_a_batch_download_holds_only_the_batch(staff_client, emulator_account, batched):
    hit_type, website = batched["hit_type"], batched["website"]
    url = reverse(
        "results-download",
        kwargs={"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id},
    )

    response = staff_client.get(url, {"batch": website.pk})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["WorkerId"] for row in rows] == ["AWORKERTWO0002"]
    assert rows[0]["RequesterAnnotation"] == WEBSITE
    assert f"-batch-{website.pk}-results-" in response["Content-Disposition"]


def test_bulk_over_every_matching_row_stays_in_the_batch(staff_client, emulator_account, batched):
    hit_type, pilot = batched["hit_type"], batched["pilot"]
    url = reverse(
        "bulk-decide", kwargs={"slug": emulator_account.slug, "hit_type_id": hit_type.hit_type_id}
    )

    confirm, confirmed = confirmation_page(
        staff_client, url, {"scope": "matching", "action": "approve", "batch": pilot.pk}
    )
    staff_client.post(url, confirmed)

    assert "Approve 2 assignments?" in confirm and "<dd>pilot</dd>" in confirm
    assert Job.objects.get(kind="review.decide").title.endswith(", batch pilot")
    workers = set(Decision.objects.values_list("assignment__worker__worker_id", flat=True))
    assert workers == {"AWORKERONE0001"} and Decision.objects.count() == 2
