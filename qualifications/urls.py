"""Qualification pages (types, the test editor, scores, the request queue), mounted under
a/<slug>/ by dashboard.urls. Granting from a study's review lives with the review (hits)."""

from __future__ import annotations

from django.urls import URLPattern, path

from qualifications import test_views

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
]
