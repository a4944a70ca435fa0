"""Publishing URLs, mounted under a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = [
    # --- templates and presets ---
    # --- publish a batch ---
    # --- manage live HITs ---
]
