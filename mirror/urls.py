"""The mirror's URLs, mounted at the root by dashboard.urls."""

from __future__ import annotations

from django.urls import path

from mirror import views, webhooks

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("notifications/sns/<slug:slug>/", webhooks.sns_webhook, name="sns-webhook"),
    path("a/<slug:slug>/sync/", views.sync_now, name="sync-now"),
    path("a/<slug:slug>/notifications/", views.notifications, name="account-notifications"),
    path(
        "a/<slug:slug>/notifications/configure/",
        views.notifications_configure,
        name="notifications-configure",
    ),
    path("a/<slug:slug>/notifications/test/", views.notifications_test, name="notifications-test"),
    path(
        "a/<slug:slug>/notifications/wire-emulator/",
        views.notifications_wire_emulator,
        name="notifications-wire-emulator",
    ),
]
