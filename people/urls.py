"""People URLs (worker directory, bonuses, blocks, messages, study groups), mounted under
a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import URLPattern, path  # noqa: F401  (each feature adds its paths below)

from people.views import bonuses

urlpatterns: list[URLPattern] = [
    # --- worker directory ---
    # --- bonuses ---
    path("bonuses/", bonuses.bonus_ledger, name="bonus-ledger"),
    path("bonuses/upload/", bonuses.bonus_upload_view, name="bonus-upload"),
    path("bonuses/runs/<int:pk>/", bonuses.bonus_run, name="bonus-run"),
    path("bonuses/runs/<int:pk>/preview/", bonuses.bonus_run_preview, name="bonus-run-preview"),
    path("bonuses/runs/<int:pk>/confirm/", bonuses.bonus_run_confirm, name="bonus-run-confirm"),
    path("assignments/<str:assignment_id>/bonus/", bonuses.bonus_pay, name="bonus-pay"),
    # --- blocks ---
    # --- messages ---
    # --- study groups ---
]
