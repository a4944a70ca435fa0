"""Question preview and answer replay pages, included at the root by dashboard.urls."""

from __future__ import annotations

from django.urls import path

from hits import preview_views

urlpatterns = [
    path(
        "a/<slug:slug>/hits/<str:hit_id>/preview/",
        preview_views.hit_preview,
        name="hit-preview",
    ),
    path(
        "a/<slug:slug>/hits/<str:hit_id>/preview/<str:assignment_id>/",
        preview_views.assignment_replay,
        name="assignment-replay",
    ),
]
