"""Many client threads at once: one lock keeps state consistent and payments single."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.emulator.helpers import create_hit, hit_params, work


def test_concurrent_approvals_pay_once(emu, mturk):
    hit = create_hit(mturk)
    assignment_id = work(emu, hit["HITId"], "AW1")
    clients = [emu.client() for _ in range(8)]

    def approve(client):
        try:
            client.approve_assignment(AssignmentId=assignment_id)
            return "ok"
        except client.exceptions.RequestError:
            return "refused"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(approve, clients))
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    truth = next(
        a
        for a in emu.control.truth("assignments")["assignments"]
        if a["AssignmentId"] == assignment_id
    )
    assert truth["PaidCount"] == 1
    assert mturk.get_account_balance()["AvailableBalance"] == "9999.40"


def test_concurrent_creates_with_the_same_token_make_one_hit(emu, mturk):
    clients = [emu.client() for _ in range(8)]

    def create(client):
        try:
            return client.create_hit(**hit_params(UniqueRequestToken="same"))["HIT"]["HITId"]
        except client.exceptions.RequestError:
            return None

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, clients))
    assert len([r for r in results if r]) == 1
    assert mturk.list_hits()["NumResults"] == 1
