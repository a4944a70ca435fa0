"""The core's ways to reach MTurk and the worker: `account_gateway`, enqueueing a task by name,
registering job handlers, and the form that confirms a live account's name."""

from __future__ import annotations

import pytest

from dashboard.dispatch import enqueue_task
from dashboard.enums import Environment, JobKind
from dashboard.forms import LiveAccountConfirmForm
from dashboard.jobs import register_job_handler
from dashboard.models import MTurkCallStats
from dashboard.mturk_access import account_gateway
from mturk.errors import NotFound
from tests.factories import RequesterAccountFactory


@pytest.mark.django_db
def test_account_gateway_records_its_calls_when_the_block_ends(emulator_account):
    with account_gateway(emulator_account) as gateway:
        gateway.get_account_balance()
        gateway.get_account_balance()
        assert not MTurkCallStats.objects.filter(account=emulator_account).exists()

    stats = MTurkCallStats.objects.get(account=emulator_account, operation="GetAccountBalance")
    assert (stats.calls, stats.errors) == (2, 0)


@pytest.mark.django_db
def test_account_gateway_records_its_calls_when_the_block_raises(emulator_account):
    with pytest.raises(NotFound), account_gateway(emulator_account) as gateway:
        gateway.get_hit(hit_id="3NOSUCHHIT0000000000000000000")

    stats = MTurkCallStats.objects.get(account=emulator_account, operation="GetHIT")
    assert (stats.calls, stats.errors) == (1, 1)


def test_enqueueing_an_unknown_task_name_is_an_error():
    with pytest.raises(LookupError, match="no.such.task"):
        enqueue_task("no.such.task", intent_id=1)


def test_a_job_kind_has_one_handler():
    def other(job: object, progress: object) -> None:
        return None

    with pytest.raises(ValueError, match="already registered"):
        register_job_handler(JobKind.REVIEW_DECIDE, other)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("environment", "typed", "ok"),
    [
        (Environment.LIVE, "Vision Lab", True),
        (Environment.LIVE, "  Vision Lab  ", True),
        (Environment.LIVE, "vision lab", False),
        (Environment.LIVE, "", False),
        (Environment.SANDBOX, "", True),
        (Environment.EMULATOR, "", True),
    ],
)
def test_a_live_account_is_confirmed_by_its_exact_name(environment, typed, ok):
    account = RequesterAccountFactory(name="Vision Lab", environment=environment)

    form = LiveAccountConfirmForm({"confirm_name": typed}, account=account)

    assert form.is_valid() is ok
    assert bool(form.problem()) is not ok
