"""People URLs (worker directory, bonuses, blocks, messages, study groups), mounted under
a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401  (each feature adds its paths below)

from people.views import directory

urlpatterns: list[URLPattern] = [
    # --- worker directory ---
    path("workers/", directory.worker_list, name="worker-list"),
    path("workers/<str:worker_id>/", directory.worker_detail, name="worker-detail"),
    path("workers/<str:worker_id>/notes/", directory.worker_note_add, name="worker-note-add"),
    path("workers/<str:worker_id>/tags/", directory.worker_tag_add, name="worker-tag-add"),
    path(
        "workers/<str:worker_id>/tags/remove/",
        directory.worker_tag_remove,
        name="worker-tag-remove",
    ),
    # --- bonuses ---
    # --- blocks ---
    # --- messages ---
    # --- study groups ---
]
