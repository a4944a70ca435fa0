"""The overview's empty cards (and the empty jobs page) say what to do next, and promise nothing the
dashboard cannot do yet: no bonus runs, no blocks, no publishing (README, Roles: still to come)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import RequesterAccountFactory

pytestmark = pytest.mark.django_db

NOT_YET = ("bonus", "block", "publish", "qualification")


class _EmptyStates(HTMLParser):
    """The text inside elements whose class includes `empty-state`."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth or "empty-state" in classes:
            self.depth += 1
            if self.depth == 1:
                self.texts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.texts[-1] += data


def _empty_states(html: str) -> list[str]:
    parser = _EmptyStates()
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.texts]


@pytest.mark.parametrize("page", ["account-overview", "job-list"])
def test_empty_states_promise_only_what_exists(staff_client, account, page):
    response = staff_client.get(reverse(page, kwargs={"slug": account.slug}))

    states = _empty_states(response.content.decode())
    assert response.status_code == 200 and states
    for text in states:
        assert not any(word in text.lower() for word in NOT_YET), text


def test_the_live_banner_promises_only_decisions(lab_admin_client, admin_user):
    live = RequesterAccountFactory(
        slug="live-lab", environment="live", endpoint_url="", members=[admin_user]
    )

    body = lab_admin_client.get(reverse("account-overview", kwargs={"slug": live.slug}))

    banner = body.content.decode().split('class="live-banner"', 1)[1].split("</div>", 1)[0]
    assert "real money" in banner
    assert not any(word in banner.lower() for word in NOT_YET), banner


@pytest.mark.parametrize("page", ["account-overview", "job-list"])
def test_other_accounts_staff_cannot_open_them(other_staff_client, account, page):
    assert other_staff_client.get(reverse(page, kwargs={"slug": account.slug})).status_code == 404
