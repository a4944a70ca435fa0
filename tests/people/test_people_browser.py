"""Bonuses and blocks in a real browser (Debian's Chromium through Playwright) against a live
server, the emulator and a real Celery worker: a lab admin uploads a bonus CSV, reads the dry run,
confirms and watches the run's ledger rows turn to sent; another blocks a worker from the review
grid and sees the block on the worker's page. Screenshots are saved in test-artifacts/."""

from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from dashboard.celery import app
from mirror.sync import run_sync
from people.models import Bonus
from tests.hits.test_review_browser import ARTIFACTS, _log_in, browser, expect
from tests.hits.test_sync import create_hits, work
from workers.models import WorkerBlock

__all__ = ["browser"]  # the fixture, shared with the review flow's browser tests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _study_with_three_workers(account, gateway, control) -> dict[str, str]:
    """One HIT with three submitted assignments, mirrored; worker id -> assignment id."""
    (hit_id,) = create_hits(gateway, 1, title="Bonus study")
    assignments = {
        worker_id: work(control, hit_id, worker_id)
        for worker_id in ("AWORKERONE0001", "AWORKERTWO0002", "AWORKERTHREE03")
    }
    assert run_sync(account=account, kind="full").ok
    return assignments


def test_admin_pays_bonuses_from_a_file_and_watches_them_sent(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, admin_user, tmp_path
):
    page = browser
    control = fresh_emulator.control
    assignments = _study_with_three_workers(emulator_account, account_gateway, control)
    csv = tmp_path / "bonuses.csv"
    csv.write_text(
        "WorkerId,AssignmentId,BonusAmount,Reason\n"
        + "".join(
            f"{worker_id},{assignment_id},0.50,Thanks for the careful answers\n"
            for worker_id, assignment_id in assignments.items()
        )
    )

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, admin_user)
        page.click("nav.account-nav >> text=Bonuses")
        page.click("text=Pay bonuses from a file")
        page.set_input_files("input[type=file][name=file]", str(csv))
        page.click("button:has-text('Check the file')")

        # The dry run: three rows matched, $1.50 plus MTurk's 20% fee, nothing sent yet.
        expect(page.locator("main h1")).to_contain_text("Confirm the bonuses")
        main = page.inner_text("main")
        assert "$1.80" in main and "$0.30" in main
        assert control.truth("bonuses")["bonuses"] == []
        page.screenshot(path=str(ARTIFACTS / "bonus-preview.png"), full_page=True)
        page.click("main form button.primary")

        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "bonus-job.png"), full_page=True)

        run = Bonus.objects.filter(account=emulator_account).first().run
        page.goto(f"{live_server.url}/a/{emulator_account.slug}/bonuses/runs/{run.pk}/")
        expect(page.locator("#run-rows tbody .state-done")).to_have_count(3)
        assert page.locator("#run-rows tbody .state-done").all_inner_texts() == ["Sent"] * 3
        page.screenshot(path=str(ARTIFACTS / "bonus-run.png"), full_page=True)

    paid = control.truth("bonuses")["bonuses"]
    assert sorted((b["WorkerId"], b["AssignmentId"]) for b in paid) == sorted(assignments.items())


def test_admin_blocks_a_worker_from_the_grid_and_sees_it_on_the_worker_page(
    browser, live_server, emulator_account, account_gateway, fresh_emulator, admin_user
):
    page = browser
    control = fresh_emulator.control
    assignments = _study_with_three_workers(emulator_account, account_gateway, control)

    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"
    ):
        _log_in(page, live_server, admin_user)
        page.click("nav.account-nav >> text=Studies")
        page.click("#study-table a >> nth=0")
        page.check(f"input[name=selected][value='{assignments['AWORKERTWO0002']}']")
        page.click("button:has-text('Block selected workers')")

        expect(page.locator("main h1")).to_have_text("Block or unblock 1 worker?")
        page.check("input[name=kind][value=hard]")
        page.check("input[name=action][value=block]")
        page.fill("textarea[name=reason], input[name=reason]", "Copied answers across HITs")
        page.screenshot(path=str(ARTIFACTS / "block-confirm.png"), full_page=True)
        page.click("button:has-text('Send to MTurk')")
        page.wait_for_selector("#job-progress .state-succeeded", timeout=30_000)

        page.goto(f"{live_server.url}/a/{emulator_account.slug}/workers/AWORKERTWO0002/")
        expect(page.locator(".page-head")).to_contain_text("hard-blocked")
        page.screenshot(path=str(ARTIFACTS / "worker-blocked.png"), full_page=True)

    assert [b["WorkerId"] for b in control.truth("blocks")["blocks"]] == ["AWORKERTWO0002"]
    assert WorkerBlock.objects.filter(account=emulator_account, worker_id="AWORKERTWO0002").exists()
