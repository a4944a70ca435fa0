"""The one bounded fetch behind every server-side request: allowed URLs only, no redirects, capped
in size and time, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time

import pytest

from mturk.fetch import FetchError, fetch, url_problem
from tests.httpstub import http_stub


@pytest.fixture
def stub():
    with http_stub() as running:
        yield running


def test_a_small_answer_is_returned(stub):
    stub.route("/ok", body=b"hello", headers={"Content-Type": "text/plain"})

    result = fetch(stub.url + "/ok?x=1")

    assert (result.status, result.content_type, result.body) == (200, "text/plain", b"hello")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:70/", "only http and https"),
        ("http://user:pw@127.0.0.1/", "user name or password"),
        ("http://127.0.0.1@169.254.169.254/", "user name or password"),
        ("http://127.0.0.1/#frag", "fragment"),
        ("http://127.0.0.1\\@169.254.169.254/", "backslashes"),
        ("http://127.0.0.1/a b", "spaces"),
        ("http:///path-only", "names no host"),
        ("http://127.0.0.1:99999/", "not a valid URL"),
    ],
)
def test_urls_that_may_not_be_fetched_are_refused_before_any_connection(url, problem):
    assert problem in (url_problem(url) or "")
    with pytest.raises(FetchError, match="refused to fetch"):
        fetch(url)


def test_a_base_url_may_not_carry_a_query():
    # "<endpoint>" + "/_emulator/sns/cert.pem" with a "?" in the endpoint turns the suffix into a
    # query: the endpoint would choose the page.
    assert url_problem("http://127.0.0.1:8765/internal?", allow_query=False) == "it has a query (?)"
    assert url_problem("http://127.0.0.1:8765/internal?", allow_query=True) is None
    assert url_problem("http://127.0.0.1:8765/", allow_query=False) is None


def test_redirects_are_not_followed(stub):
    stub.route("/cert.pem", status=302, headers={"Location": stub.url + "/secret"})
    stub.route("/secret", body=b"internal secret")

    with pytest.raises(FetchError, match="redirect, not followed"):
        fetch(stub.url + "/cert.pem")

    assert stub.requested == ["/cert.pem"]


@pytest.mark.parametrize("no_length", [False, True], ids=["declared", "undeclared"])
def test_bodies_over_the_cap_are_refused(stub, no_length):
    stub.route("/big", body=b"x" * 5000, no_length=no_length)

    assert len(fetch(stub.url + "/big", max_bytes=5000).body) == 5000
    with pytest.raises(FetchError, match="too large"):
        fetch(stub.url + "/big", max_bytes=4999)


def test_a_server_that_drips_cannot_hold_the_caller(stub):
    # 100 bytes, one every 0.1 s: 10 s in all, each read well within the socket timeout.
    stub.route("/slow", body=b"y" * 100, drip_seconds=0.1)

    started = time.monotonic()
    with pytest.raises(FetchError, match="took longer than 0.5 s"):
        fetch(stub.url + "/slow", timeout=0.5)

    assert time.monotonic() - started < 2.0


def test_error_statuses_and_unreachable_hosts_are_fetch_errors(stub):
    stub.route("/gone", status=404, body=b"internal details")

    with pytest.raises(FetchError, match="answered HTTP 404") as gone:
        fetch(stub.url + "/gone")
    with pytest.raises(FetchError, match="could not fetch"):
        fetch("http://127.0.0.1:9/", timeout=2)  # discard port: nothing listens

    assert "internal details" not in str(gone.value)
