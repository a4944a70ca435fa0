from __future__ import annotations

from django.db import models


class TemplateKind(models.TextChoices):
    HTML = "html", "HTMLQuestion (HTML with ${variables}, crowd-form elements included)"
    EXTERNAL = "external", "ExternalQuestion (a URL with ${variables})"
    QUESTION_FORM = "questionform", "QuestionForm (built with a form, or XML)"
    LAYOUT = "layout", "HITLayoutId with named parameters"


class BatchState(models.TextChoices):
    DRAFT = "draft", "Not published yet"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"


class HITChangeAction(models.TextChoices):
    ADD_ASSIGNMENTS = "add_assignments", "Add assignments"
    UPDATE_EXPIRATION = "update_expiration", "Extend or shorten expiry"
    EXPIRE = "expire", "Expire now"
    DELETE = "delete", "Delete"
    CHANGE_TYPE = "change_type", "Change HIT type"
    REVIEW_STATUS = "review_status", "Set review status"
