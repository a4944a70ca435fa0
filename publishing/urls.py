"""Publishing URLs, mounted under a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from publishing import manage_views, publish_views, requirement_views, template_views

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
    path("publish/templates/", template_views.template_list, name="template-list"),
    path("publish/templates/new/", template_views.template_edit, name="template-create"),
    path(
        "publish/templates/preview/",
        template_views.template_draft_preview,
        name="template-draft-preview",
    ),
    path("publish/templates/<int:pk>/", template_views.template_detail, name="template-detail"),
    path("publish/templates/<int:pk>/edit/", template_views.template_edit, name="template-edit"),
    path("publish/templates/build/", template_views.template_build, name="template-build"),
    path(
        "publish/templates/build/preview/",
        template_views.template_build_preview,
        name="template-build-preview",
    ),
    path(
        "publish/templates/<int:pk>/build/",
        template_views.template_build,
        name="template-build-edit",
    ),
    path(
        "publish/templates/<int:pk>/samples/",
        template_views.template_samples,
        name="template-samples",
    ),
    path(
        "publish/templates/<int:pk>/delete/",
        template_views.template_delete,
        name="template-delete",
    ),
    path(
        "publish/templates/<int:pk>/preview/",
        template_views.template_preview,
        name="template-preview",
    ),
    # --- publish a batch ---
    path("publish/", publish_views.publish_list, name="publish-list"),
    path("publish/new/", publish_views.publish_new, name="publish-new"),
    path("publish/<int:pk>/", publish_views.publish_batch, name="publish-batch"),
    path("publish/<int:pk>/copy/", publish_views.publish_batch_copy, name="publish-batch-copy"),
    path(
        "publish/<int:pk>/confirm/",
        publish_views.publish_batch_confirm,
        name="publish-batch-confirm",
    ),
    # --- manage live HITs ---
    path("hits/manage/selected/", manage_views.hits_manage_selected, name="hits-manage-selected"),
    path("hits/manage/confirm/", manage_views.hits_manage_confirm, name="hits-manage-confirm"),
    path("hits/<str:hit_id>/manage/", manage_views.hit_manage, name="hit-manage"),
    path("studies/<str:hit_type_id>/copy/", publish_views.study_copy, name="study-copy"),
    path(
        "studies/<str:hit_type_id>/disagreements/",
        manage_views.study_disagreements,
        name="study-disagreements",
    ),
]
