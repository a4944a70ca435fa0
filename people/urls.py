"""People URLs (worker directory, bonuses, blocks, messages, study groups), mounted under
a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from people.views import blocks, groups

urlpatterns: list[URLPattern] = [
    # --- worker directory ---
    # --- bonuses ---
    # --- blocks ---
    path("workers/blocks/selected/", blocks.block_selected, name="workers-block-selected"),
    path("workers/blocks/upload/", blocks.block_upload, name="workers-block-upload"),
    path("workers/blocks/confirm/", blocks.block_confirm, name="workers-block-confirm"),
    path("workers/<str:worker_id>/block/", blocks.worker_block, name="worker-block"),
    # --- messages ---
    # --- study groups ---
    path("study-groups/", groups.group_list, name="study-group-list"),
    path("study-groups/new/", groups.group_edit, name="study-group-create"),
    path("study-groups/<int:pk>/", groups.group_detail, name="study-group-detail"),
    path("study-groups/<int:pk>/edit/", groups.group_edit, name="study-group-edit"),
    path("study-groups/<int:pk>/exclude/", groups.group_exclude, name="study-group-exclude"),
]
