"""The bonus pages: who may see and pay, one bonus paid once whatever the clicks, "pay again"."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from dashboard.enums import IntentState
from people.models import Bonus
from tests.factories import AssignmentFactory, HITFactory, HITTypeFactory
from tests.people.bonus_fixtures import populate_and_sync, truth_bonuses


@pytest.fixture
def three(emulator_account, fresh_emulator):
    """Three submitted assignments at the emulator, mirrored."""
    return populate_and_sync(fresh_emulator, emulator_account, 3)


@pytest.fixture
def lab_assignment(account):
    hit = HITFactory(account=account, hit_type=HITTypeFactory(account=account))
    return AssignmentFactory(hit=hit)


def urls(slug: str, assignment_id: str) -> dict[str, str]:
    return {
        "ledger": reverse("bonus-ledger", args=[slug]),
        "pay": reverse("bonus-pay", args=[slug, assignment_id]),
        "upload": reverse("bonus-upload", args=[slug]),
    }


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login_page(anonymous_client, account, lab_assignment):
    for url in urls(account.slug, lab_assignment.assignment_id).values():
        response = anonymous_client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_staff_see_the_ledger_but_cannot_pay(staff_client, account, lab_assignment):
    pages = urls(account.slug, lab_assignment.assignment_id)
    response = staff_client.get(pages["ledger"])
    assert response.status_code == 200
    assert b"Pay bonuses from a file" not in response.content
    assert staff_client.get(pages["pay"]).status_code == 403
    assert (
        staff_client.post(pages["pay"], {"amount": "1.00", "reason": "thanks"}).status_code == 403
    )
    assert staff_client.get(pages["upload"]).status_code == 403
    assert (
        staff_client.post(reverse("bonus-run-confirm", args=[account.slug, 1])).status_code == 403
    )
    assert not Bonus.objects.exists()


@pytest.mark.django_db
def test_members_of_another_account_get_404(other_staff_client, account, lab_assignment):
    for url in urls(account.slug, lab_assignment.assignment_id).values():
        assert other_staff_client.get(url).status_code == 404


@pytest.mark.django_db
def test_admins_see_the_pages(lab_admin_client, account, lab_assignment):
    for url in urls(account.slug, lab_assignment.assignment_id).values():
        assert lab_admin_client.get(url).status_code == 200
    # The HIT page links to the bonus page of each assignment.
    hit_page = lab_admin_client.get(
        reverse("hit-detail", args=[account.slug, lab_assignment.hit.hit_id])
    )
    assert reverse("bonus-pay", args=[account.slug, lab_assignment.assignment_id]).encode() in (
        hit_page.content
    )


@pytest.mark.django_db
def test_an_unknown_assignment_is_404(lab_admin_client, account):
    assert (
        lab_admin_client.get(reverse("bonus-pay", args=[account.slug, "NOPE"])).status_code == 404
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("0.001", "thanks", b"more than two decimals"),
        ("-1", "thanks", b"negative"),
        ("0", "thanks", b"below $0.01"),
        ("abc", "thanks", b"not a number"),
        ("1.00", "", b"This field is required"),
    ],
)
def test_bad_amounts_and_missing_reasons_are_refused(
    lab_admin_client, account, lab_assignment, amount, reason, message
):
    url = reverse("bonus-pay", args=[account.slug, lab_assignment.assignment_id])
    response = lab_admin_client.post(url, {"amount": amount, "reason": reason})
    assert response.status_code == 200 and message in response.content
    assert not Bonus.objects.exists()


@pytest.mark.django_db
def test_a_bonus_over_the_accounts_cap_is_refused(lab_admin_client, account, lab_assignment):
    account.bonus_run_cap = Decimal("1.00")
    account.save()
    url = reverse("bonus-pay", args=[account.slug, lab_assignment.assignment_id])
    response = lab_admin_client.post(url, {"amount": "0.90", "reason": "thanks"})
    # $0.90 + $0.18 fee > $1.00
    assert response.status_code == 409 and b"over the account&#x27;s cap" in response.content
    assert not Bonus.objects.exists()


@pytest.mark.django_db
def test_one_bonus_is_paid_once_whatever_the_clicks_and_pay_again_needs_its_reason(
    lab_admin_client,
    emulator_account,
    fresh_emulator,
    three,
    eager_celery,
    django_capture_on_commit_callbacks,
):
    assignment = three[0]
    url = reverse("bonus-pay", args=[emulator_account.slug, assignment.assignment_id])
    form = {"amount": "1.25", "reason": "Great answers"}
    with django_capture_on_commit_callbacks(execute=True):
        first = lab_admin_client.post(url, form)
    assert first.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        second = lab_admin_client.post(url, form)  # the double click
    assert second.status_code == 409 and b"already has a bonus" in second.content

    bonus = Bonus.objects.get()
    assert bonus.state == IntentState.DONE and bonus.worker_id == assignment.worker.worker_id
    paid = truth_bonuses(fresh_emulator.control)
    assert [(b["AssignmentId"], b["BonusAmount"]) for b in paid] == [
        (assignment.assignment_id, "1.25")
    ]

    # Pay again, without a reason: refused; with one: paid a second time, on purpose.
    again = {**form, "pay_again": "on"}
    response = lab_admin_client.post(url, again)
    assert response.status_code == 200 and b"Say why" in response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = lab_admin_client.post(url, {**again, "pay_again_reason": "A second task done"})
    assert response.status_code == 302
    assert len(truth_bonuses(fresh_emulator.control)) == 2
    assert Bonus.objects.filter(pay_again=True, state=IntentState.DONE).count() == 1

    ledger = lab_admin_client.get(reverse("bonus-ledger", args=[emulator_account.slug]))
    # 2 x ($1.25 + $0.25 fee)
    assert ledger.status_code == 200 and b"$3.00" in ledger.content


@pytest.mark.django_db
def test_the_ledger_filters_by_state_and_worker_and_answers_htmx_with_its_table(
    staff_client, account, lab_assignment
):
    other = AssignmentFactory(hit=lab_assignment.hit)
    Bonus.objects.create(
        account=account,
        worker_id=lab_assignment.worker.worker_id,
        assignment_id=lab_assignment.assignment_id,
        amount=Decimal("1.00"),
        reason="first",
        state=IntentState.DONE,
    )
    Bonus.objects.create(
        account=account,
        worker_id=other.worker.worker_id,
        assignment_id=other.assignment_id,
        amount=Decimal("2.00"),
        reason="second",
        state=IntentState.FAILED,
    )
    url = reverse("bonus-ledger", args=[account.slug])
    page = staff_client.get(url)
    assert page.context["page"].paginator.count == 2
    # $1.00 + $0.20 fee sent; the failed one is not spend.
    assert page.context["totals"].sent.total == Decimal("1.20")
    assert page.context["totals"].failed.amount == Decimal("2.00")
    assert staff_client.get(url, {"state": "failed"}).context["page"].paginator.count == 1
    by_worker = staff_client.get(url, {"worker": other.worker.worker_id})
    assert [b.reason for b in by_worker.context["page"]] == ["second"]
    fragment = staff_client.get(url, headers={"HX-Request": "true"})
    assert fragment.content.lstrip().startswith(b'<section id="ledger-table"')
