"""/favicon.ico: browsers ask for it on pages that name no icon (the admin's); it is served, to
anyone, from our static files."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse


def test_the_icon_is_served_at_favicon_ico():
    response = Client().get("/favicon.ico")

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "max-age=86400" in response["Cache-Control"]
    assert reverse("favicon") == "/favicon.ico"


def test_only_reading_it_is_allowed():
    assert Client().post("/favicon.ico").status_code == 405
