"""People URLs (worker directory, bonuses, blocks, messages, study groups), mounted under
a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from people.views import blocks, bonuses, directory, groups, messages

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
    path("bonuses/", bonuses.bonus_ledger, name="bonus-ledger"),
    path("bonuses/upload/", bonuses.bonus_upload_view, name="bonus-upload"),
    path("bonuses/runs/<int:pk>/", bonuses.bonus_run, name="bonus-run"),
    path("bonuses/runs/<int:pk>/preview/", bonuses.bonus_run_preview, name="bonus-run-preview"),
    path("bonuses/runs/<int:pk>/confirm/", bonuses.bonus_run_confirm, name="bonus-run-confirm"),
    path("assignments/<str:assignment_id>/bonus/", bonuses.bonus_pay, name="bonus-pay"),
    # --- blocks ---
    path("workers/blocks/selected/", blocks.block_selected, name="workers-block-selected"),
    path("workers/blocks/upload/", blocks.block_upload, name="workers-block-upload"),
    path("workers/blocks/confirm/", blocks.block_confirm, name="workers-block-confirm"),
    path("workers/<str:worker_id>/block/", blocks.worker_block, name="worker-block"),
    # --- messages ---
    path("messages/", messages.message_list, name="message-list"),
    path("messages/new/", messages.compose, name="message-compose"),
    path("messages/send/", messages.send, name="message-send"),
    path(
        "messages/from-study/<str:hit_type_id>/",
        messages.compose_from_study,
        name="message-compose-from-study",
    ),
    path("messages/templates/", messages.template_list, name="message-template-list"),
    path("messages/templates/new/", messages.template_edit, name="message-template-create"),
    path("messages/templates/<int:pk>/", messages.template_edit, name="message-template-edit"),
    path(
        "messages/templates/<int:pk>/delete/",
        messages.template_delete,
        name="message-template-delete",
    ),
    path("workers/<str:worker_id>/message/", messages.worker_message, name="worker-message"),
    # --- study groups ---
    path("study-groups/", groups.group_list, name="study-group-list"),
    path("study-groups/new/", groups.group_edit, name="study-group-create"),
    path("study-groups/<int:pk>/", groups.group_detail, name="study-group-detail"),
    path("study-groups/<int:pk>/edit/", groups.group_edit, name="study-group-edit"),
    path("study-groups/<int:pk>/exclude/", groups.group_exclude, name="study-group-exclude"),
]
