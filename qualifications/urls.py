"""Qualification pages (types, the test editor, scores, the request queue), mounted under
a/<slug>/ by dashboard.urls. Granting from a study's review lives with the review (hits)."""

from __future__ import annotations

from django.urls import URLPattern, path

from qualifications import request_views

urlpatterns: list[URLPattern] = [
    # --- types and scores ---
    # --- test editor ---
    # --- request queue ---
    path("qualifications/requests/", request_views.request_queue, name="qualification-requests"),
    path(
        "qualifications/requests/decide/",
        request_views.requests_bulk,
        name="qualification-requests-bulk",
    ),
    path(
        "qualifications/requests/confirm/",
        request_views.requests_confirm,
        name="qualification-requests-confirm",
    ),
    path(
        "qualifications/requests/<str:request_id>/decide/",
        request_views.request_decide,
        name="qualification-request-decide",
    ),
]
