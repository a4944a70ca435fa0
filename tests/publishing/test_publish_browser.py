"""The MTurk tutorial's workflow (seeds/004: a template with variables, a CSV of inputs, a batch,
then review and approve) in a real browser (Debian's Chromium through Playwright) against a live
server, the emulator with its simulated crowd and a real Celery worker: a lab admin writes an
HTMLQuestion template with two variables in the template editor, uploads three rows of inputs,
reads the estimate, publishes, watches the HITs being created, lets the crowd work, syncs, reviews
each answer beside its inputs in the study's grid, approves them all and sees them approved; the
emulator agrees. Screenshots are saved in test-artifacts/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from publishing.models import HITRequest, PublishBatch
from tests.hits.test_decisions import balance
from tests.hits.test_review_browser import ARTIFACTS, _log_in, browser, expect

__all__ = ["browser"]  # the fixture, shared with the review flow's browser tests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The tutorial's age guesser: a photo (its URL) of a person (their id); the worker guesses the age.
TEMPLATE = """<!DOCTYPE html>
<html><body>
<form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">
  <input type="hidden" name="assignmentId" value="">
  <h2>Guess the age of person ${person_id}</h2>
  <p>Photo: <a href="${image_url}" target="_blank" rel="noopener">${image_url}</a></p>
  <label><input type="radio" name="age" value="under 30">Under 30</label>
  <label><input type="radio" name="age" value="30 to 50">30 to 50</label>
  <label><input type="radio" name="age" value="over 50">Over 50</label>
  <input type="submit">
</form>
</body></html>
"""
PEOPLE = [
    ("P-101", "https://photos.example.org/101.jpg"),
    ("P-102", "https://photos.example.org/102.jpg"),
    ("P-103", "https://photos.example.org/103.jpg"),
]
REWARD = Decimal("0.25")
ASSIGNMENTS_PER_ITEM = 2
# Fewer than 10 assignments per HIT: MTurk's fee is 20% of the reward.
EXPECTED_TOTAL = len(PEOPLE) * ASSIGNMENTS_PER_ITEM * (REWARD + REWARD * Decimal("0.20"))


def _let_the_crowd_work(control, hit_ids: set[str], expected: int) -> list[dict]:
    """Start the simulated crowd and advance the emulated clock until every assignment of the
    batch is submitted (the crowd works on that clock, so no real waiting)."""
    control.post("crowd", {"count": 4, "mix": {"careful": 1}, "speed": 20})
    control.post("crowd/start")
    try:
        for _round in range(40):
            control.advance(300)
            submitted = [
                a
                for a in control.truth("assignments")["assignments"]
                if a["HITId"] in hit_ids and a["AssignmentStatus"] == "Submitted"
            ]
            if len(submitted) == expected:
                return submitted
    finally:
        control.post("crowd/stop")
    raise AssertionError(f"the crowd submitted {len(submitted)} of {expected} assignments")


def test_the_tutorial_template_inputs_batch_review_and_approve(
    browser, live_server, emulator_account, fresh_emulator, admin_user, tmp_path
):
    page = browser
    control = fresh_emulator.control
    before = balance(control)
    account_url = f"{live_server.url}/a/{emulator_account.slug}/"
    inputs = tmp_path / "mturk_upload.csv"
    inputs.write_text("person_id,image_url\n" + "".join(f"{pid},{url}\n" for pid, url in PEOPLE))

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, admin_user)

        # 1. The template, with its two variables, through the template editor.
        page.click("nav.account-nav >> text=Publish")
        page.click("main >> text=Question templates")
        page.click("#new-template")
        page.fill("input[name=name]", "Age guesser")
        page.select_option("select[name=kind]", "html")
        page.fill("textarea[name=content]", TEMPLATE)
        page.click("#save-template")
        expect(page.locator("main h1")).to_have_text("Question template: Age guesser")
        expect(page.locator("#template-variables code")).to_have_text(["person_id", "image_url"])
        # The preview with one row's values, as a worker would see that HIT.
        page.fill("#sample-form input[name$=person_id]", PEOPLE[0][0])
        page.fill("#sample-form input[name$=image_url]", PEOPLE[0][1])
        page.click("#preview-samples")
        preview = page.frame_locator("#template-preview").frame_locator("iframe.question-frame")
        expect(preview.locator("h2")).to_have_text(f"Guess the age of person {PEOPLE[0][0]}")
        expect(preview.locator("a")).to_have_text(PEOPLE[0][1])
        page.screenshot(path=str(ARTIFACTS / "publish-template.png"), full_page=True)

        # 2. The batch: the settings and the CSV of inputs, checked before anything is sent.
        page.click("nav.account-nav >> text=Publish")
        page.click("main >> text=Publish a batch")
        page.fill("input[name=label]", "age-guesser-1")
        page.select_option("select[name=template]", label="Age guesser")
        page.fill("input[name=title]", "Guess Age Of Person In Picture")
        page.fill(
            "textarea[name=description]",
            "(Should take < 1 minute) We show you a picture and ask for your best guess "
            "as to how old the person is.",
        )
        page.fill("input[name=keywords]", "image, age, how old?")
        page.fill("input[name=reward]", str(REWARD))
        page.fill("input[name=max_assignments]", str(ASSIGNMENTS_PER_ITEM))
        page.fill("input[name=assignment_duration_seconds]", "600")
        page.fill("input[name=lifetime_seconds]", "86400")
        page.fill("input[name=auto_approval_delay_seconds]", "604800")
        page.set_input_files("input[type=file][name=inputs]", str(inputs))
        page.click("button:has-text('Check the batch')")

        # 3. The estimate: 3 HITs x 2 assignments x ($0.25 + MTurk's 20% fee); nothing sent yet.
        expect(page.locator("main h1")).to_have_text("Batch age-guesser-1")
        facts = page.locator("dl.facts")
        expect(facts).to_contain_text(f"${EXPECTED_TOTAL:.2f}")
        total = facts.locator("dt:has-text('Total') + dd").inner_text()
        assert total == f"${EXPECTED_TOTAL:.2f}" == "$1.80"
        assert facts.locator("dt:has-text('HITs') + dd").inner_text().startswith("3")
        assert control.truth("hits")["hits"] == []
        page.screenshot(path=str(ARTIFACTS / "publish-estimate.png"), full_page=True)
        page.click(f"main form button.primary:has-text('Publish 3 HITs (${EXPECTED_TOTAL:.2f}')")

        # 4. The job creates the HITs; its page polls until it is done.
        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)
        assert "3 done" in page.inner_text("#job-progress")
        page.screenshot(path=str(ARTIFACTS / "publish-progress.png"), full_page=True)
        page.click("#job-progress >> text=See the result")
        expect(page.locator("#batch-rows tbody tr")).to_have_count(3)
        expect(page.locator("#batch-rows tbody .state-done")).to_have_count(3)
        batch_url = page.url

        # 5. The crowd works; then a sync brings the answers in.
        batch = PublishBatch.objects.get(label="age-guesser-1")
        hit_ids = set(HITRequest.objects.filter(batch=batch).values_list("hit_id", flat=True))
        assert len(hit_ids) == 3
        submitted = _let_the_crowd_work(control, hit_ids, 3 * ASSIGNMENTS_PER_ITEM)
        page.goto(account_url)
        page.click("button[name=kind][value=full]")
        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)

        # 6. Review: from the batch to its answers, each beside the inputs its HIT was made from.
        page.goto(batch_url)
        page.click("#review-answers")
        rows = page.locator("tr.review-row")
        expect(rows).to_have_count(6)
        answers = {a["AssignmentId"]: a for a in submitted}
        for row in rows.all():
            assignment_id = row.get_attribute("id").removeprefix("a-")
            text = row.inner_text()
            hit_inputs = HITRequest.objects.get(hit_id=answers[assignment_id]["HITId"]).inputs
            assert f"person_id={hit_inputs['person_id']}" in text
            assert f"image_url={hit_inputs['image_url']}" in text
            assert any(age in text for age in ("under 30", "30 to 50", "over 50")), text
        page.screenshot(path=str(ARTIFACTS / "publish-review.png"), full_page=True)

        # 7. Approve them all (every matching row), confirmed with the count and the cost.
        page.check("input[name=scope][value=matching]")
        page.select_option("select[name=action]", "approve")
        page.fill("input[name=feedback]", "Thank you!")
        page.click("#bulk-form button.primary")
        expect(page.locator("main h1")).to_have_text("Approve 6 assignments?")
        assert f"${EXPECTED_TOTAL:.2f}" in page.inner_text("main")
        page.click("button[name=go]")
        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)
        assert "6 done" in page.inner_text("#job-progress")

        page.goto(batch_url)
        page.click("#review-answers")
        expect(rows.locator(".status-approved")).to_have_count(6)
        # What the batch cost, as the grid counts it, is what the estimate said.
        expect(page.locator("main")).to_contain_text(f"spent so far ${EXPECTED_TOTAL:.2f}")
        page.screenshot(path=str(ARTIFACTS / "publish-approved.png"), full_page=True)

    # MTurk's truth: the six assignments approved, and paid what the estimate said.
    truth = [a for a in control.truth("assignments")["assignments"] if a["HITId"] in hit_ids]
    assert sorted(a["AssignmentStatus"] for a in truth) == ["Approved"] * 6
    assert Decimal(batch.estimate["total"]) == before - balance(control) == EXPECTED_TOTAL
