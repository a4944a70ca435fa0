"""The QuestionForm builder in a real browser (Debian's Chromium through Playwright) against a
live server: a lab admin builds a template of two questions (adding the second with the
builder's button), previews it, saves it, saves sample values and sees them in the preview.
Screenshots are saved in test-artifacts/."""

from __future__ import annotations

import pytest

from publishing.models import QuestionTemplate
from tests.hits.test_review_browser import ARTIFACTS, _log_in, browser, expect

__all__ = ["browser"]  # the fixture, shared with the review flow's browser tests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_builds_a_question_form_and_previews_it_with_sample_values(
    browser, live_server, account, admin_user
):
    page = browser
    _log_in(page, live_server, admin_user)
    page.goto(f"{live_server.url}/a/{account.slug}/publish/templates/")
    page.click("#build-template")

    page.fill("input[name=template-name]", "Photo ages")
    page.fill("textarea[name=template-overview]", "Look at the photo of ${person}.")
    page.fill("input[name=questions-0-identifier]", "age")
    page.fill("textarea[name=questions-0-text]", "How old is ${person}?")
    page.fill("input[name=questions-0-max_length]", "3")
    page.click("#add-question")
    expect(page.locator("fieldset.question-form")).to_have_count(2)
    # The first question kept what was typed.
    expect(page.locator("input[name=questions-0-identifier]")).to_have_value("age")
    page.fill("input[name=questions-1-identifier]", "mood")
    page.fill("textarea[name=questions-1-text]", "How does ${person} look?")
    page.select_option("select[name=questions-1-answer]", "checkbox")
    page.fill("textarea[name=questions-1-choices]", "happy | Happy\nsad | Sad")

    page.click("#preview-template")
    frame = page.frame_locator("#template-draft-preview").frame_locator("iframe")
    expect(frame.locator("body")).to_contain_text("How old is ${person}?")
    page.screenshot(path=str(ARTIFACTS / "template-builder.png"), full_page=True)

    page.click("#save-template")
    expect(page.locator("main h1")).to_contain_text("Question template: Photo ages")
    template = QuestionTemplate.objects.get(account=account)
    assert [q["identifier"] for q in template.builder_spec["questions"]] == ["age", "mood"]

    page.fill("input[name=var_person]", "Ann")
    page.click("#save-samples")
    expect(page.locator("main")).to_contain_text("Sample values saved")
    frame = page.frame_locator("#template-preview").frame_locator("iframe")
    expect(frame.locator("body")).to_contain_text("How old is Ann?")
    page.screenshot(path=str(ARTIFACTS / "template-sample-values.png"), full_page=True)

    page.click("#edit-template")
    expect(page.locator("fieldset.question-form")).to_have_count(2)
    expect(page.locator("textarea[name=questions-1-choices]")).to_have_value(
        "happy | Happy\nsad | Sad"
    )
