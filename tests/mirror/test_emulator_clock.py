"""The overview says how far an emulator account's clock is from real time (issue 11 item 3): read
from the emulator's control API through a bounded, cached fetch."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache
from django.urls import reverse

from dashboard.enums import Environment
from mirror.emulator_clock import (
    MAX_RESPONSE_BYTES,
    EmulatorClock,
    duration_text,
    emulator_clock,
    read_emulator_clock,
)
from tests.factories import RequesterAccountFactory


@pytest.fixture(autouse=True)
def no_cached_clocks() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def overview(client, account) -> str:
    return client.get(reverse("account-overview", kwargs={"slug": account.slug})).content.decode()


def test_the_overview_says_the_emulator_clock_is_real_time(staff_client, emulator_account):
    body = overview(staff_client, emulator_account)
    assert "<dt>Emulator clock</dt><dd>real time</dd>" in body


def test_the_overview_shows_the_offset_when_the_clock_is_ahead(
    staff_client, emulator_account, fresh_emulator
):
    fresh_emulator.control.advance(2 * 3600 + 5 * 60)
    body = overview(staff_client, emulator_account)
    assert "2 h 5 min ahead of real time" in body
    fresh_emulator.control.post("clock", {"speed": 10})
    cache.clear()
    assert "running 10× real time" in overview(staff_client, emulator_account)


def test_sandbox_and_live_accounts_have_no_emulator_clock(staff_client, admin_user, staff_user):
    sandbox = RequesterAccountFactory(
        slug="sandbox-lab",
        environment=Environment.SANDBOX,
        endpoint_url="",
        members=[admin_user, staff_user],
    )
    assert emulator_clock(sandbox) is None
    assert "Emulator clock" not in overview(staff_client, sandbox)


def test_an_unreachable_emulator_is_said_so_not_an_error(staff_client, admin_user, staff_user):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    gone = RequesterAccountFactory(
        slug="gone-lab", endpoint_url="http://127.0.0.1:9/", members=[admin_user, staff_user]
    )
    response = staff_client.get(reverse("account-overview", kwargs={"slug": gone.slug}))
    assert response.status_code == 200
    assert '<dt>Emulator clock</dt><dd><span class="muted">not reachable</span>' in (
        response.content.decode()
    )


class FakeEmulator:
    """A stand-in HTTP server for the emulator's control API, answering what each test sets, and
    counting requests: the fetch under test is ours, the server is the far side."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.body = json.dumps({"offset": 0.0, "speed": 1.0}).encode()
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.paths.append(self.path)
                self.send_response(fake.status)
                for name, value in fake.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(fake.body)))
                self.end_headers()
                self.wfile.write(fake.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, payload: object) -> None:
        self.body = json.dumps(payload).encode()


@pytest.fixture
def fake_emulator() -> Iterator[FakeEmulator]:
    fake = FakeEmulator()
    fake.thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


def test_the_clock_is_read_once_per_cache_interval(db, fake_emulator):
    account = RequesterAccountFactory(slug="cached-lab", endpoint_url=fake_emulator.url)
    fake_emulator.answer({"offset": 90061, "speed": 1})
    first = emulator_clock(account)
    fake_emulator.answer({"offset": 0, "speed": 1})
    assert emulator_clock(account) == first == EmulatorClock(True, 90061.0, 1.0)
    assert fake_emulator.paths == ["/_emulator/clock"]
    assert first.description == "1 d 1 h ahead of real time"


@pytest.mark.parametrize(
    "status,headers,body",
    [
        (302, {"Location": "http://127.0.0.1:9/_emulator/clock"}, b""),  # no redirects followed
        (200, {"Content-Type": "text/html"}, b"<html></html>"),
        (200, {"Content-Type": "application/json"}, b"[1, 2]"),
        (200, {"Content-Type": "application/json"}, b'{"offset": "soon", "speed": 1}'),
        (200, {"Content-Type": "application/json"}, b'{"offset": NaN, "speed": 1}'),
        (200, {"Content-Type": "application/json"}, b"{" + b" " * MAX_RESPONSE_BYTES + b"}"),
        (500, {"Content-Type": "application/json"}, b'{"offset": 0, "speed": 1}'),
    ],
)
def test_anything_but_a_small_json_clock_is_unreachable(fake_emulator, status, headers, body):
    fake_emulator.status, fake_emulator.headers, fake_emulator.body = status, headers, body
    assert read_emulator_clock(fake_emulator.url) == EmulatorClock(reachable=False)
    assert fake_emulator.paths == ["/_emulator/clock"]


def test_only_http_endpoints_are_read():
    assert read_emulator_clock("file:///etc/passwd") == EmulatorClock(reachable=False)
    assert read_emulator_clock("") == EmulatorClock(reachable=False)


def test_descriptions():
    assert EmulatorClock(True, 0.0004, 1).is_real_time
    assert not EmulatorClock(False).is_real_time
    assert EmulatorClock(True, -75, 1).description == "1 min 15 s behind real time"
    assert EmulatorClock(True, 0, 0).description == "on real time, stopped"
    assert (
        EmulatorClock(True, 12, 2.5).description
        == "12 s ahead of real time, running 2.5× real time"
    )
    assert duration_text(3 * 86400 + 4 * 3600 + 59) == "3 d 4 h"
