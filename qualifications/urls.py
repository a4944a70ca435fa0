"""Qualification pages (types, the test editor, scores, the request queue), mounted under
a/<slug>/ by dashboard.urls. Granting from a study's review lives with the review (hits)."""

from __future__ import annotations

from django.urls import URLPattern, path, register_converter

from qualifications import request_views, test_views, views


class TypeIdConverter:
    """An MTurk qualification type id: upper-case letters and digits. Lower-case words after
    qualifications/ (the request queue's, the test editor's) are pages, never a type."""

    regex = "[0-9A-Z]{2,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TypeIdConverter, "qtype")

urlpatterns: list[URLPattern] = [
    # --- types and scores ---
    path("qualifications/", views.qualification_list, name="qualification-list"),
    path("qualifications/new/", views.qualification_create, name="qualification-create"),
    path(
        "qualifications/<qtype:type_id>/",
        views.qualification_detail,
        name="qualification-detail",
    ),
    path(
        "qualifications/<qtype:type_id>/edit/",
        views.qualification_edit,
        name="qualification-edit",
    ),
    path(
        "qualifications/<qtype:type_id>/dispose/",
        views.qualification_dispose,
        name="qualification-dispose",
    ),
    path(
        "qualifications/<qtype:type_id>/workers.csv",
        views.qualification_workers_download,
        name="qualification-workers-download",
    ),
    path(
        "qualifications/<qtype:type_id>/workers/<str:worker_id>/",
        views.qualification_worker,
        name="qualification-worker",
    ),
    path(
        "qualifications/<qtype:type_id>/grants/upload/",
        views.qualification_grant_upload,
        name="qualification-grant-upload",
    ),
    path(
        "qualifications/<qtype:type_id>/grants/<int:pk>/",
        views.qualification_upload_preview,
        name="qualification-upload-preview",
    ),
    path(
        "qualifications/<qtype:type_id>/grants/<int:pk>/confirm/",
        views.qualification_upload_confirm,
        name="qualification-upload-confirm",
    ),
    # --- test editor ---
    path(
        "qualifications/<str:qualification_type_id>/test/",
        test_views.test_edit,
        name="qualification-test-edit",
    ),
    path(
        "qualifications/<str:qualification_type_id>/test/preview/",
        test_views.test_preview,
        name="qualification-test-preview",
    ),
    # --- request queue ---
    path("qualifications/requests/", request_views.request_queue, name="qualification-requests"),
    path(
        "qualifications/requests/decide/",
        request_views.requests_bulk,
        name="qualification-requests-bulk",
    ),
    path(
        "qualifications/requests/confirm/",
        request_views.requests_confirm,
        name="qualification-requests-confirm",
    ),
    path(
        "qualifications/requests/<str:request_id>/decide/",
        request_views.request_decide,
        name="qualification-request-decide",
    ),
]
