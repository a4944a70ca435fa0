"""Publishing URLs, mounted under a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from publishing import manage_views

urlpatterns: list[URLPattern] = [
    # --- templates and presets ---
    # --- publish a batch ---
    # --- manage live HITs ---
    path("hits/manage/selected/", manage_views.hits_manage_selected, name="hits-manage-selected"),
    path("hits/manage/confirm/", manage_views.hits_manage_confirm, name="hits-manage-confirm"),
    path("hits/<str:hit_id>/manage/", manage_views.hit_manage, name="hit-manage"),
    path(
        "studies/<str:hit_type_id>/disagreements/",
        manage_views.study_disagreements,
        name="study-disagreements",
    ),
]
