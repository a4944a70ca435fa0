from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from dashboard import views, webhooks

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/sns/<slug:slug>/", webhooks.sns_webhook, name="sns-webhook"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("settings/accounts/new/", views.account_create, name="account-create"),
    path("a/<slug:slug>/", views.account_overview, name="account-overview"),
    path("a/<slug:slug>/settings/", views.account_edit, name="account-edit"),
    path("a/<slug:slug>/members/", views.account_members, name="account-members"),
    path("a/<slug:slug>/audit/", views.audit_log, name="audit-log"),
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
    path("a/<slug:slug>/jobs/", views.job_list, name="job-list"),
    path("a/<slug:slug>/jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("a/<slug:slug>/", include("hits.urls")),
    path("", include("hits.preview_urls")),
]
