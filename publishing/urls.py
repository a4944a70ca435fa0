"""Publishing URLs, mounted under a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from publishing import requirement_views

urlpatterns: list[URLPattern] = [
    # --- templates and presets ---
    path("publish/presets/", requirement_views.preset_list, name="preset-list"),
    path("publish/presets/new/", requirement_views.preset_edit, name="preset-create"),
    path("publish/presets/<int:pk>/", requirement_views.preset_edit, name="preset-edit"),
    path(
        "publish/presets/<int:pk>/delete/",
        requirement_views.preset_delete,
        name="preset-delete",
    ),
    # --- publish a batch ---
    # --- manage live HITs ---
]
