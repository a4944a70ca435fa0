"""Qualification pages (types, the test editor, scores, the request queue), mounted under
a/<slug>/ by dashboard.urls. Granting from a study's review lives with the review (hits)."""

from __future__ import annotations

from django.urls import URLPattern, path

from qualifications import request_views, test_views

urlpatterns: list[URLPattern] = [
    # --- types and scores ---
    # --- test editor ---
    path(
        "qualifications/<str:qualification_type_id>/test/",
        test_views.test_edit,
        name="qualification-test-edit",
    ),
    path(
        "qualifications/<str:qualification_type_id>/test/preview/",
        test_views.test_preview,
        name="qualification-test-preview",
    ),
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
