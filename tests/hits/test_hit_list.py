"""The HIT list: search, status filter, sort, pagination that keeps the filter, htmx fragment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import HITFactory, HITTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hits(account):
    """55 reviewable HITs of one study, created a minute apart, and one assignable HIT."""
    study = HITTypeFactory(account=account, title="Cat or not")
    now = timezone.now()
    rows = [
        HITFactory(
            hit_type=study,
            hit_id=f"3REVIEWABLE{n:019d}",
            created_at_mturk=now - timedelta(minutes=n),
            expires_at=now + timedelta(days=1, minutes=n),
        )
        for n in range(55)
    ]
    other = HITFactory(
        hit_type=HITTypeFactory(account=account, title="Dog or not"),
        hit_id="3ASSIGNABLE0000000000000000001",
        status="Assignable",
        annotation="batch:wave-2;item:1",
        created_at_mturk=now - timedelta(days=3),
        expires_at=now + timedelta(hours=1),
        assignments_pending=2,
    )
    return rows, other


def _ids(body: str) -> list[str]:
    import re

    return re.findall(r"<code>(3[A-Z0-9]+)</code>", body)


def test_hit_list_pages_newest_first_and_keeps_the_filter_across_pages(staff_client, account, hits):
    url = reverse("hit-list", kwargs={"slug": account.slug})

    first = staff_client.get(url, {"status": "Reviewable"}).content.decode()
    second = staff_client.get(url, {"status": "Reviewable", "page": 2}).content.decode()

    assert _ids(first)[:2] == [hits[0][0].hit_id, hits[0][1].hit_id] and len(_ids(first)) == 50
    assert "status=Reviewable&amp;page=2" in first
    assert len(_ids(second)) == 5 and hits[1].hit_id not in second


@pytest.mark.parametrize(
    ("params", "first_id"),
    [
        ({"sort": "expires_at"}, "3ASSIGNABLE0000000000000000001"),
        ({"sort": "created_at_mturk"}, "3ASSIGNABLE0000000000000000001"),
        ({"sort": "-assignments_pending"}, "3ASSIGNABLE0000000000000000001"),
        ({"q": "wave-2"}, "3ASSIGNABLE0000000000000000001"),
        ({"q": "3REVIEWABLE0000000000000000007"}, "3REVIEWABLE0000000000000000007"),
        ({"status": "Assignable"}, "3ASSIGNABLE0000000000000000001"),
    ],
)
def test_hit_list_filters_and_sorts(staff_client, account, hits, params, first_id):
    body = staff_client.get(reverse("hit-list", kwargs={"slug": account.slug}), params)

    assert _ids(body.content.decode())[0] == first_id


def test_hit_list_answers_htmx_with_the_table_and_says_when_nothing_matches(
    staff_client, account, hits
):
    url = reverse("hit-list", kwargs={"slug": account.slug})

    fragment = staff_client.get(url, {"q": "nothing like this"}, headers={"HX-Request": "true"})

    body = fragment.content.decode()
    assert "<html" not in body and body.strip().startswith('<section id="hit-table"')
    assert "No HITs match" in body
