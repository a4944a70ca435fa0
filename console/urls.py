"""The landing pages' URLs, mounted at the root by dashboard.urls."""

from __future__ import annotations

from django.urls import path

from console import views

urlpatterns = [
    path("", views.index, name="index"),
    path("a/<slug:slug>/", views.account_overview, name="account-overview"),
]
