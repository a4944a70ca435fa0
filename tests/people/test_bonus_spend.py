"""Bonuses count in every spend figure: a bonus the ledger has just paid is in the mirror at once,
in a study's and a batch's cost, and MTurk's record of it (the next bonus sync) completes that
row rather than adding a second one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from hits import review
from hits.models import HIT
from mirror.sync import run_sync
from people.services.bonuses import execute_bonus, request_bonus
from tests.people.bonus_fixtures import populate_and_sync
from workers.models import BonusPayment
from workers.sync import sync_bonuses

pytestmark = pytest.mark.django_db


def _pay(account, gateway, assignment, amount="1.00", **extra):
    bonus = request_bonus(
        account=account, assignment=assignment, amount=amount, reason="Thanks!", **extra
    )
    sent = execute_bonus(bonus_id=bonus.pk, gateway=gateway)
    assert sent is not None and sent.state == "done"
    return sent


def test_a_paid_bonus_counts_in_the_studys_cost_at_once_and_once_after_the_bonus_sync(
    emulator_account, account_gateway, fresh_emulator
):
    first, second = populate_and_sync(fresh_emulator, emulator_account, 2)
    hits = HIT.objects.filter(account=emulator_account)
    before = review.spent(hits)

    _pay(emulator_account, account_gateway, first)  # $1.00 + $0.20 fee

    assert review.spent(hits) == before + Decimal("1.20")
    (row,) = BonusPayment.objects.filter(account=emulator_account)
    assert row.grant_time is None  # ours, until MTurk's record of it arrives

    sync_bonuses(account=emulator_account, gateway=account_gateway, hit_ids=[first.hit.hit_id])

    (row,) = BonusPayment.objects.filter(account=emulator_account)
    assert row.grant_time is not None and not row.mturk_key.startswith("sent-")
    assert review.spent(hits) == before + Decimal("1.20")


def test_paying_again_counts_twice_and_a_bonus_paid_outside_the_dashboard_counts_after_sync(
    emulator_account, account_gateway, fresh_emulator
):
    (assignment,) = populate_and_sync(fresh_emulator, emulator_account, 1)
    hits = HIT.objects.filter(account=emulator_account)
    before = review.spent(hits)
    _pay(emulator_account, account_gateway, assignment)
    _pay(
        emulator_account,
        account_gateway,
        assignment,
        pay_again=True,
        pay_again_reason="The first bonus forgot the second part",
    )
    # And one through another tool: only the sync can know of it.
    account_gateway.send_bonus(
        worker_id=assignment.worker.worker_id,
        assignment_id=assignment.assignment_id,
        amount=Decimal("0.05"),
        reason="From a script",
        token="elsewhere-1",
    )

    assert review.spent(hits) == before + Decimal("2.40")
    assert run_sync(account=emulator_account, kind="bonuses").ok

    # $1.00 twice (+$0.20 each), $0.05 (+ the $0.01 minimum fee).
    assert review.spent(hits) == before + Decimal("2.46")
    assert BonusPayment.objects.filter(account=emulator_account).count() == 3


def test_the_study_list_shows_bonuses_in_the_cost_so_far(
    emulator_account, account_gateway, fresh_emulator, lab_admin_client
):
    (assignment,) = populate_and_sync(fresh_emulator, emulator_account, 1)
    _pay(emulator_account, account_gateway, assignment, amount="3.00")

    page = lab_admin_client.get(reverse("study-list", kwargs={"slug": emulator_account.slug}))

    assert "$3.60" in page.content.decode()
