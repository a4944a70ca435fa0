"""The review flow in a real browser (Debian's Chromium through Playwright) against a live server,
the emulator and a real Celery worker: log in as staff, open a study, filter, select every matching
row, bulk approve with confirmation, watch the progress bar finish, see the statuses change; row 1
approved by click and by key on a full page load; every keyboard shortcut of the grid.
Screenshots of the grid, the confirmation, the job, the side-by-side page and the batches are
saved in test-artifacts/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connections
from django.urls import reverse

from dashboard.celery import app
from dashboard.models import Job
from hits.models import Assignment, Decision, HITType
from mirror.sync import run_sync
from tests.factories import TEST_PASSWORD
from tests.hits.test_sync import create_hits, work

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The live server reads what the test writes, so the test cannot run inside a transaction. Each
# test ends by emptying the tables; the roles come back with the flush (dashboard/roles.py).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        page = chromium.new_context(viewport={"width": 1300, "height": 900}).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.dialogs = dialogs
        yield page
        chromium.close()


def _log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_staff_bulk_approves_every_matching_row_and_watches_it_finish(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, staff_user
):
    page = browser
    first, second = create_hits(account_gateway, 2, annotation="batch:pilot;item:{n}")
    control = fresh_emulator.control
    work(
        control, first, "AWORKERONE0001", {"cat": "yes", "comment": "<script>alert('xss')</script>"}
    )
    work(control, first, "AWORKERTWO0002", {"cat": "yes", "comment": "a cat"})
    work(control, first, "AWORKERTHREE03", {"cat": "no", "comment": "no cat"})
    work(control, second, "AWORKERONE0001", {"cat": "yes", "comment": "cat again"})
    assert run_sync(account=emulator_account, kind="full").ok

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, staff_user)
        page.click("nav.account-nav >> text=Studies")
        page.click("#study-table a >> nth=0")
        assert page.locator("tr.review-row").count() == 4

        # Filter to the rows where AWORKERONE0001 worked (htmx swaps the grid), then take them all.
        page.click("summary:has-text('Filter')")
        page.fill("#grid-filters input[name=worker]", "AWORKERONE0001")
        page.click("#grid-filters button[type=submit]")
        # (A locator wait: our CSP forbids the eval that wait_for_function would need.)
        expect(page.locator("tr.review-row")).to_have_count(2)
        page.screenshot(path=str(ARTIFACTS / "review-grid.png"), full_page=True)
        page.check("input[name=scope][value=matching]")
        page.select_option("select[name=action]", "approve")
        page.fill("input[name=feedback]", "Thank you!")
        page.click("#bulk-form button.primary")

        expect(page.locator("main h1")).to_have_text("Approve 2 assignments?")
        assert "$0.60" in page.inner_text("main")  # 2 x ($0.25 + 20% fee)
        page.screenshot(path=str(ARTIFACTS / "bulk-confirm.png"), full_page=True)
        page.click("button[name=go]")

        # The job page polls its progress fragment until the worker is done, then stops.
        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)
        assert "2 done" in page.inner_text("#job-progress")
        page.screenshot(path=str(ARTIFACTS / "job-progress.png"), full_page=True)

        page.go_back()
        page.go_back()
        page.reload()
        statuses = dict(
            zip(
                page.locator("tr.review-row td:nth-child(2)").all_inner_texts(),
                page.locator("tr.review-row .status").all_inner_texts(),
                strict=False,
            )
        )
        assert set(page.locator("tr.review-row .status").all_inner_texts()) >= {"Approved"}
        assert statuses

        # Side by side: the hostile answer is text, nothing ran.
        page.goto(f"{live_server.url}/a/{emulator_account.slug}/hits/{first}/")
        page.wait_for_selector("table.side-by-side")
        assert "<script>alert('xss')</script>" in page.inner_text("table.side-by-side")
        page.screenshot(path=str(ARTIFACTS / "side-by-side.png"), full_page=True)

        # The batch, with its progress, opens the grid scoped to it.
        page.click("nav.account-nav >> text=Batches")
        expect(page.locator("#batch-table tbody tr")).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "batches.png"), full_page=True)
        page.click("#batch-table a >> text=pilot")
        expect(page.locator(".batch-scope")).to_contain_text("Batch: pilot")
        assert page.locator("tr.review-row").count() == 4
        time.sleep(0.5)
        assert page.dialogs == []
    connections.close_all()

    approved = set(
        Assignment.objects.filter(status="Approved").values_list("worker__worker_id", flat=True)
    )
    assert approved == {"AWORKERONE0001"}
    truth = [
        a
        for a in fresh_emulator.control.truth("assignments")["assignments"]
        if a["WorkerId"] == "AWORKERONE0001"
    ]
    assert [a["ApproveCount"] for a in truth] == [1, 1]


def _study(account, gateway, control, hits: int) -> str:
    """`hits` HITs of one study, each worked by three workers and synced; the grid's URL path."""
    for hit_id in create_hits(gateway, hits):
        for worker_id in ("AWORKERONE0001", "AWORKERTWO0002", "AWORKERTHREE03"):
            work(control, hit_id, worker_id)
    assert run_sync(account=account, kind="full").ok
    hit_type = HITType.objects.get(account=account)
    return reverse(
        "study-detail", kwargs={"slug": account.slug, "hit_type_id": hit_type.hit_type_id}
    )


def _row_id(row) -> str:
    return row.get_attribute("id").removeprefix("a-")


def _approve_counts(emulator, assignment_ids) -> list[int]:
    truth = {a["AssignmentId"]: a for a in emulator.control.truth("assignments")["assignments"]}
    return [truth[a]["ApproveCount"] for a in assignment_ids]


def test_row_one_is_approved_by_click_and_by_key_on_a_full_page_load(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, staff_user
):
    """Issue 10, item 2: with the row forms nested in the bulk form, the parser dropped row 1's
    form on a full page load, and its Approve (or the `a` key) submitted the bulk form instead."""
    page = browser
    grid = live_server.url + _study(emulator_account, account_gateway, fresh_emulator.control, 1)

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, staff_user)
        page.goto(grid)
        clicked = _row_id(page.locator("tr.review-row").first)
        page.locator("tr.review-row").first.locator("[data-shortcut=approve]").click()
        expect(page.locator(f"#decision-{clicked} .status")).to_have_text(
            "Approved", timeout=30_000
        )
        assert page.url == grid

        page.goto(f"{grid}?status=Submitted")
        first = page.locator("tr.review-row").first
        keyed = _row_id(first)
        page.keyboard.press("j")
        expect(first).to_have_class(re.compile(r"\bis-current\b"))
        page.keyboard.press("a")
        expect(page.locator(f"#decision-{keyed} .status")).to_have_text("Approved", timeout=30_000)
        assert page.url == f"{grid}?status=Submitted"
        page.screenshot(path=str(ARTIFACTS / "review-row-one-approved.png"), full_page=True)
        assert page.dialogs == []
    connections.close_all()

    assert keyed != clicked
    assert set(
        Assignment.objects.filter(status="Approved").values_list("assignment_id", flat=True)
    ) == {clicked, keyed}
    assert not Job.objects.exists()  # the bulk form was never submitted
    assert _approve_counts(fresh_emulator, [clicked, keyed]) == [1, 1]


def test_keyboard_shortcuts_move_approve_reject_open_and_page(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, staff_user
):
    """j/k move between rows, a approves, r opens the reject box, p opens the row's HIT, n/b go to
    the next and previous page (27 rows: two pages of 25)."""
    page = browser
    grid = live_server.url + _study(emulator_account, account_gateway, fresh_emulator.control, 9)

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, staff_user)
        page.goto(grid)
        rows = page.locator("tr.review-row")
        expect(rows).to_have_count(25)
        current = re.compile(r"\bis-current\b")

        page.keyboard.press("j")
        expect(rows.nth(0)).to_have_class(current)
        page.keyboard.press("j")
        expect(rows.nth(1)).to_have_class(current)
        expect(rows.nth(0)).not_to_have_class(current)
        page.keyboard.press("k")
        expect(rows.nth(0)).to_have_class(current)
        expect(rows.nth(1)).not_to_have_class(current)

        approved = _row_id(rows.nth(0))
        page.keyboard.press("a")
        expect(page.locator(f"#decision-{approved} .status")).to_have_text(
            "Approved", timeout=30_000
        )

        page.keyboard.press("j")
        second = _row_id(rows.nth(1))
        page.keyboard.press("r")
        expect(
            page.locator(f"#decision-{second} details.reject-box[open] textarea")
        ).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "review-keys-reject.png"), full_page=True)

        preview = rows.nth(1).get_attribute("data-preview")
        page.keyboard.press("p")
        page.wait_for_url(live_server.url + preview)
        expect(page.locator("table.side-by-side")).to_be_visible()

        page.goto(grid)
        page.keyboard.press("n")
        expect(page.locator(".pagination")).to_contain_text("Page 2 of 2")
        expect(rows).to_have_count(2)
        assert page.url.endswith("page=2")
        page.keyboard.press("b")
        expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")
        expect(rows).to_have_count(25)
        assert page.dialogs == []
    connections.close_all()

    assert list(Decision.objects.values_list("assignment__assignment_id", "action")) == [
        (approved, "approve")
    ]
    assert _approve_counts(fresh_emulator, [approved]) == [1]


def test_a_crafted_link_decides_only_the_ticked_row_after_its_confirmation(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, staff_user
):
    """Issue 10, item 1, in the browser: a link that carries other rows, `go` and a typed name in
    its query string adds nothing to the bulk form; the click on "Review before sending…" shows the
    confirmation page for the ticked row alone, and only its own button sends the decision."""
    page = browser
    grid = live_server.url + _study(emulator_account, account_gateway, fresh_emulator.control, 1)
    ids = list(
        Assignment.objects.filter(account=emulator_account)
        .order_by("assignment_id")
        .values_list("assignment_id", flat=True)
    )
    ticked, *others = ids
    crafted = (
        f"{grid}?"
        + "&".join(f"selected={other}" for other in others)
        + f"&go=1&confirm_name={emulator_account.name.replace(' ', '+')}"
    )

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, staff_user)
        page.goto(crafted)
        page.locator(f"input[name=selected][value='{ticked}']").check()
        page.select_option("select[name=action]", "approve")
        page.click("#bulk-form button.primary")
        # The confirmation page, for one row: nothing is recorded yet.
        expect(page.locator("main h1")).to_have_text("Approve 1 assignment?")
        assert not Decision.objects.exists() and not Job.objects.exists()
        page.screenshot(
            path=str(ARTIFACTS / "review-crafted-link-confirmation.png"), full_page=True
        )
        page.click("button[name=go]")
        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)
        assert "1 done" in page.inner_text("#job-progress")
    connections.close_all()

    assert list(Decision.objects.values_list("assignment__assignment_id", flat=True)) == [ticked]
    assert _approve_counts(fresh_emulator, ids) == [1, 0, 0]
