"""People URLs (worker directory, bonuses, blocks, messages, study groups), mounted under
a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401  (each feature adds its paths below)

urlpatterns: list[URLPattern] = [
    # --- worker directory ---
    # --- bonuses ---
    # --- blocks ---
    # --- messages ---
    # --- study groups ---
]
