"""`python manage.py sync_mturk [--account SLUG] [--full]` against the emulator over real HTTP."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from dashboard.models import SyncState
from hits.models import HIT, Assignment
from tests.factories import RequesterAccountFactory
from tests.hits.test_sync import create_hits, work

pytestmark = pytest.mark.django_db


def sync_mturk(*args: str, stderr: io.StringIO | None = None) -> tuple[list[str], str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command("sync_mturk", *args, stdout=out, stderr=err, no_color=True)
    return out.getvalue().splitlines(), err.getvalue()


def test_without_options_every_active_account_gets_the_quick_sync(
    emulator_account, account_gateway, fresh_emulator
):
    (hit_id,) = create_hits(account_gateway, 1, max_assignments=1)
    work(fresh_emulator.control, hit_id, "AWORKERONE0001")  # 1 of 1: the HIT is Reviewable

    lines, errors = sync_mturk()

    assert errors == ""
    assert len(lines) == 2
    assert re.fullmatch(
        r"emu: Reviewable HITs in \d+\.\ds \(hits_seen 1, hits_created 1, .*assignments_created 1"
        r".*pages \d+\)",
        lines[0],
    ), lines[0]
    assert re.fullmatch(r"emu: Balance in \d+\.\ds \(available [\d.]+\)", lines[1]), lines[1]
    assert Assignment.objects.filter(hit__hit_id=hit_id).count() == 1
    state = SyncState.objects.get(account=emulator_account)
    assert state.last_reviewable_sync_at and state.last_balance_sync_at
    assert state.last_full_sync_at is None


def test_full_runs_every_kind_for_the_named_account_only(
    emulator_account, account_gateway, fresh_emulator
):
    create_hits(account_gateway, 2)  # open HITs: only ListHITs sees them
    RequesterAccountFactory(slug="elsewhere", endpoint_url="http://127.0.0.1:9/")  # never reached

    lines, errors = sync_mturk("--account", "emu", "--full")

    assert errors == ""
    assert [line.split(" in ")[0] for line in lines] == [
        "emu: Full reconciliation",
        "emu: Balance",
        "emu: Qualification types",
        "emu: Worker blocks",
        "emu: Bonuses",
    ]
    assert "hits_created 2" in lines[0]
    assert HIT.objects.filter(account=emulator_account).count() == 2
    assert not SyncState.objects.filter(account__slug="elsewhere").exists()


def test_an_unknown_account_is_an_error_naming_it(emulator_account):
    with pytest.raises(CommandError, match="No account 'nope'"):
        sync_mturk("--account", "nope")


def test_no_active_account_is_an_error_that_says_what_to_do(db):
    with pytest.raises(CommandError, match="add_account"):
        sync_mturk()


def test_a_failing_sync_is_reported_and_fails_the_command(emulator_account, fresh_emulator):
    fresh_emulator.control.set_faults(fault_rate=1.0)
    errors = io.StringIO()

    with pytest.raises(CommandError, match=r"2 sync\(s\) failed"):
        sync_mturk("--account", "emu", stderr=errors)

    assert "emu: Reviewable HITs sync failed" in errors.getvalue()
    assert "emu: Balance sync failed" in errors.getvalue()
