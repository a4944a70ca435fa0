"""The test editor in a real browser (Debian's Chromium through Playwright) against a live server
and the emulator: a lab admin builds a two-question test, previews it in the sandboxed frame,
and saves it; another keeps the answer key in the dashboard and accepts a worker's request from
the queue. Screenshots are saved in test-artifacts/."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from mturk.qualification_test import parse_test
from qualifications.sync import sync_qualifications
from tests.hits.test_review_browser import ARTIFACTS, _log_in, browser, expect

__all__ = ["browser"]  # the fixture, shared with the review flow's browser tests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_builds_previews_and_saves_a_two_question_test(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, admin_user
):
    page = browser
    record = account_gateway.create_qualification_type(
        name="Screening", description="Our screening test."
    )
    sync_qualifications(account=emulator_account, gateway=account_gateway)
    type_id = record.qualification_type_id

    _log_in(page, live_server, admin_user)
    page.goto(f"{live_server.url}/a/{emulator_account.slug}/qualifications/{type_id}/test/")
    page.fill("#id_questions-0-identifier", "capital")
    page.fill("#id_questions-0-text", "What is the capital of France?")
    page.fill("#id_questions-0-options", "a | Lyon\nb | Paris")
    page.fill("#id_questions-0-answers", "b = 1")
    page.click("#add-question")
    expect(page.locator("#id_questions-1-identifier")).to_be_visible()
    # The first question survived the round trip through the server.
    expect(page.locator("#id_questions-0-options")).to_have_value("a | Lyon\nb | Paris")
    page.fill("#id_questions-1-identifier", "primes")
    page.fill("#id_questions-1-text", "Which numbers are prime?")
    page.select_option("#id_questions-1-kind", "multiple")
    page.fill("#id_questions-1-options", "two | 2\nfour | 4\nfive | 5")
    page.fill("#id_questions-1-answers", "two, five = 1")
    page.check("input[name='test-mapping'][value='percentage']")
    page.fill("#id_test-maximum_summed_score", "2")
    page.fill("#id_test-duration_seconds", "300")

    page.click("#preview-test")
    preview = page.frame_locator("#test-preview").frame_locator("iframe.question-frame")
    expect(preview.locator("section.question")).to_have_count(2)
    expect(preview.locator("input[type=checkbox][name=primes]")).to_have_count(3)
    assert (
        fresh_emulator.control.truth("qualification_types")["qualification_types"][0].get("Test")
        is None
    )
    page.screenshot(path=str(ARTIFACTS / "test-editor-preview.png"), full_page=True)

    page.click("#save-test")
    expect(page.locator(".message-success")).to_contain_text("is saved at MTurk")
    page.screenshot(path=str(ARTIFACTS / "test-editor-saved.png"), full_page=True)

    truth = fresh_emulator.control.truth("qualification_types")["qualification_types"][0]
    test = parse_test(truth["Test"], truth["AnswerKey"])
    assert [q.identifier for q in test.questions] == ["capital", "primes"]
    assert truth["TestDurationInSeconds"] == 300

    # The same test as XML; a broken answer key is refused with its message, nothing sent.
    page.click("#mode-raw")
    key = page.input_value("#id_answer_key")
    page.fill(
        "#id_answer_key",
        key.replace("<AnswerScore>1</AnswerScore>", "<AnswerScore>x</AnswerScore>", 1),
    )
    page.click("#save-raw")
    expect(page.locator("#raw-errors li")).to_have_count(1)
    expect(page.locator("#raw-errors")).to_contain_text("<AnswerScore> must be a whole number")
    # The frame shows the saved test (GET), in its sandbox.
    expect(preview.locator("section.question")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "test-editor-raw-refused.png"), full_page=True)
    after = fresh_emulator.control.truth("qualification_types")["qualification_types"][0]
    assert after["AnswerKey"] == truth["AnswerKey"]


def test_admin_builds_a_test_kept_for_review_and_accepts_a_request_from_the_queue(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, admin_user
):
    """Two questions built in the editor, previewed, saved with "I decide each one in the queue";
    a worker takes the test; the admin sees the key's score in the queue and accepts."""
    page = browser
    control = fresh_emulator.control
    record = account_gateway.create_qualification_type(
        name="Pilot screening", description="Two questions before the pilot."
    )
    sync_qualifications(account=emulator_account, gateway=account_gateway)
    type_id = record.qualification_type_id

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, admin_user)
        page.click("nav.account-nav >> text=Qualifications")
        page.click("text=Pilot screening")
        page.click("text=Add a test")
        page.fill("#id_questions-0-identifier", "capital")
        page.fill("#id_questions-0-text", "What is the capital of France?")
        page.fill("#id_questions-0-options", "a | Lyon\nb | Paris")
        page.fill("#id_questions-0-answers", "b = 1")
        page.click("#add-question")
        page.fill("#id_questions-1-identifier", "primes")
        page.fill("#id_questions-1-text", "Which numbers are prime?")
        page.select_option("#id_questions-1-kind", "multiple")
        page.fill("#id_questions-1-options", "two | 2\nfour | 4\nfive | 5")
        page.fill("#id_questions-1-answers", "two, five = 1")
        page.check("input[name='test-mapping'][value='percentage']")
        page.fill("#id_test-maximum_summed_score", "2")
        page.check("input[name='test-scoring'][value='queue']")
        page.click("#preview-test")
        preview = page.frame_locator("#test-preview").frame_locator("iframe.question-frame")
        expect(preview.locator("section.question")).to_have_count(2)
        page.click("#save-test")
        expect(page.locator(".message-success")).to_contain_text("is saved at MTurk")

        # A worker takes the test: with no key at MTurk the request waits for the lab.
        control.add_worker(WorkerId="APILOTWORKER1")
        taken = control.post(
            "workers/APILOTWORKER1/qualification-requests",
            {"QualificationTypeId": type_id, "answers": {"capital": "b", "primes": ["two"]}},
        )
        assert taken["Granted"] is False
        sync_qualifications(account=emulator_account, gateway=account_gateway)

        page.goto(f"{live_server.url}/a/{emulator_account.slug}/qualifications/{type_id}/")
        page.click("text=Requests waiting")
        card = page.locator("article.request-card").first
        # One right (1 of 2 summed points): 50%.
        expect(card.locator(".auto-score")).to_have_text("50")
        page.screenshot(path=str(ARTIFACTS / "qualification-queue.png"), full_page=True)
        card.locator("button:has-text('Accept')").click()
        expect(page.locator("article.request-card").first).to_contain_text("Accept with value 50")
        page.screenshot(path=str(ARTIFACTS / "qualification-accepted.png"), full_page=True)

    granted = [
        (q["WorkerId"], q.get("IntegerValue"))
        for q in control.truth("qualifications")["qualifications"]
        if q["QualificationTypeId"] == type_id and q["Status"] == "Granted"
    ]
    assert granted == [("APILOTWORKER1", 50)]
