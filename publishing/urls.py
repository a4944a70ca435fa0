"""Publishing URLs, mounted under a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path

from publishing import publish_views

urlpatterns: list[URLPattern] = [
    # --- templates and presets ---
    # --- publish a batch ---
    path("publish/", publish_views.publish_list, name="publish-list"),
    path("publish/new/", publish_views.publish_new, name="publish-new"),
    path("publish/<int:pk>/", publish_views.publish_batch, name="publish-batch"),
    path(
        "publish/<int:pk>/confirm/",
        publish_views.publish_batch_confirm,
        name="publish-batch-confirm",
    ),
    # --- manage live HITs ---
]
