"""The list views whose htmx fragments push their URL (dashboard.htmx): every answer varies on the
htmx headers, htmx gets the fragment, and a history restore (the back button with no snapshot in
htmx's cache) gets the whole page."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from dashboard.htmx import page_or_fragment, wants_fragment
from tests.factories import AssignmentFactory, HITFactory, HITTypeFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

# url name, whether it takes the study, the id of the element the fragment replaces
VIEWS = [
    ("study-list", False, "study-table"),
    ("batch-list", False, "batch-table"),
    ("hit-list", False, "hit-table"),
    ("study-detail", True, "grid"),
    ("audit-log", False, "audit-table"),
    ("job-list", False, "job-table"),
]


@pytest.fixture
def url_of(account):
    hit_type = HITTypeFactory(account=account)
    AssignmentFactory(hit=HITFactory(hit_type=hit_type))

    def url(name: str, with_study: bool) -> str:
        kwargs = {"slug": account.slug}
        if with_study:
            kwargs["hit_type_id"] = hit_type.hit_type_id
        return reverse(name, kwargs=kwargs)

    return url


def _varies_on_htmx(response) -> bool:
    vary = {h.strip().lower() for h in response.headers.get("Vary", "").split(",")}
    return {"hx-request", "hx-history-restore-request"} <= vary


@pytest.mark.parametrize(("name", "with_study", "fragment_id"), VIEWS)
def test_a_plain_visit_gets_the_page_and_varies_on_htmx(
    staff_client, url_of, name, with_study, fragment_id
):
    response = staff_client.get(url_of(name, with_study))

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert _varies_on_htmx(response)


@pytest.mark.parametrize(("name", "with_study", "fragment_id"), VIEWS)
def test_htmx_gets_the_fragment_and_it_varies_on_htmx(
    staff_client, url_of, name, with_study, fragment_id
):
    response = staff_client.get(url_of(name, with_study), headers=HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and f'id="{fragment_id}"' in body
    assert _varies_on_htmx(response)


@pytest.mark.parametrize(("name", "with_study", "fragment_id"), VIEWS)
def test_a_history_restore_gets_the_whole_page(staff_client, url_of, name, with_study, fragment_id):
    response = staff_client.get(url_of(name, with_study), headers=RESTORE)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" in body and f'id="{fragment_id}"' in body
    assert _varies_on_htmx(response)


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [({}, False), (HTMX, True), (RESTORE, False)],
    ids=["plain", "htmx", "history-restore"],
)
def test_wants_fragment(headers, fragment):
    from django_htmx.middleware import HtmxDetails

    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)

    assert wants_fragment(request) is fragment
    assert page_or_fragment(request, "t.html", "part") == ("t.html#part" if fragment else "t.html")


def test_wants_fragment_without_the_middleware():
    assert not wants_fragment(RequestFactory().get("/", headers=HTMX))
