"""Qualification pages (types, the test editor, scores, the request queue), mounted under
a/<slug>/ by dashboard.urls. Granting from a study's review lives with the review (hits)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = [
    # --- types and scores ---
    # --- test editor ---
    # --- request queue ---
]
