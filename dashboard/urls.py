"""The project's URLs. The core's own pages are listed here; each app's are included by name (a
string), so the core imports no app above it."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import views

urlpatterns = [
    path("", include("console.urls")),
    path("", include("mirror.urls")),
    # django.contrib.auth's pages without password reset: reset mails a link to whoever asks, and
    # no mail is configured; a lab admin sets a forgotten password in /admin/ instead.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("favicon.ico", views.favicon, name="favicon"),
    path("settings/accounts/new/", views.account_create, name="account-create"),
    path("a/<slug:slug>/settings/", views.account_edit, name="account-edit"),
    path("a/<slug:slug>/members/", views.account_members, name="account-members"),
    path("a/<slug:slug>/audit/", views.audit_log, name="audit-log"),
    path("a/<slug:slug>/jobs/", views.job_list, name="job-list"),
    path("a/<slug:slug>/jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("a/<slug:slug>/", include("hits.urls")),
    path("a/<slug:slug>/", include("people.urls")),
    path("a/<slug:slug>/", include("qualifications.urls")),
    path("a/<slug:slug>/", include("publishing.urls")),
    path("", include("hits.preview_urls")),
]
