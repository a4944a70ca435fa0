"""Review workspace URLs, mounted under a/<slug>/ by dashboard.urls."""

from __future__ import annotations

from django.urls import path

from hits import file_views, qualify_views, views

urlpatterns = [
    path("studies/", views.study_list, name="study-list"),
    path("studies/<str:hit_type_id>/", views.study_detail, name="study-detail"),
    path("studies/<str:hit_type_id>/columns/", views.study_columns, name="study-columns"),
    path("studies/<str:hit_type_id>/decide/", views.bulk_decide, name="bulk-decide"),
    path("studies/<str:hit_type_id>/results/", views.results_download, name="results-download"),
    path("studies/<str:hit_type_id>/upload/", views.results_upload, name="results-upload"),
    path(
        "studies/<str:hit_type_id>/upload/<int:upload_id>/confirm/",
        views.results_upload_confirm,
        name="results-upload-confirm",
    ),
    path("studies/<str:hit_type_id>/qualify/", qualify_views.study_qualify, name="study-qualify"),
    path(
        "studies/<str:hit_type_id>/qualify/confirm/",
        qualify_views.study_qualify_confirm,
        name="study-qualify-confirm",
    ),
    path(
        "studies/<str:hit_type_id>/qualify/selected/",
        qualify_views.study_qualify_selected,
        name="study-qualify-selected",
    ),
    path(
        "studies/<str:hit_type_id>/qualify/selected/confirm/",
        qualify_views.study_qualify_selected_confirm,
        name="study-qualify-selected-confirm",
    ),
    path("batches/", views.batch_list, name="batch-list"),
    path("hits/", views.hit_list, name="hit-list"),
    path("hits/<str:hit_id>/", views.hit_detail, name="hit-detail"),
    path(
        "assignments/<str:assignment_id>/file/",
        file_views.assignment_file_download,
        name="assignment-file-download",
    ),
    path(
        "assignments/<str:assignment_id>/decision/",
        views.assignment_status,
        name="assignment-status",
    ),
    path(
        "assignments/<str:assignment_id>/decide/", views.assignment_decide, name="assignment-decide"
    ),
    path("decisions/<int:pk>/", views.decision_results, name="decision-results"),
    path("search/", views.search, name="search"),
]
