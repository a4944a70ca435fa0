"""Previews of a HIT's question as workers saw it, and replays of one worker's answers in it.

Everything here handles untrusted input (question documents, worker answers, external URLs).
Question HTML is never rendered in the dashboard's origin: the preview page puts it in an
``<iframe sandbox>`` without ``allow-same-origin`` (an opaque origin: no access to our cookies,
storage or DOM) and serves the page with a Content-Security-Policy of its own. The modules:

- :mod:`hits.preview.build`: :func:`build_preview`, what the page shows for each kind of question.
- :mod:`dashboard.previews`: the iframe sandbox flags and the page's Content-Security-Policy.
- :mod:`hits.preview.external`: the URL framed for an ExternalQuestion, and which URLs may be.
- :mod:`hits.preview.form_filler`: an HTMLQuestion's form filled with one worker's answers.

QuestionForm documents are rendered by :mod:`mturk.questionform` (no Django needed). The names
below are re-exported so callers may import them from ``hits.preview``.
"""

from __future__ import annotations

from dashboard.previews import (
    SANDBOX_EXTERNAL,
    SANDBOX_NO_SCRIPTS,
    SANDBOX_WITH_SCRIPTS,
    preview_csp,
)
from hits.preview.build import Preview, build_preview
from hits.preview.external import ASSIGNMENT_ID_NOT_AVAILABLE, external_preview_url
from hits.preview.form_filler import fill_html_form
from mturk.questionform import render_question_form

__all__ = [
    "ASSIGNMENT_ID_NOT_AVAILABLE",
    "SANDBOX_EXTERNAL",
    "SANDBOX_NO_SCRIPTS",
    "SANDBOX_WITH_SCRIPTS",
    "Preview",
    "build_preview",
    "external_preview_url",
    "fill_html_form",
    "preview_csp",
    "render_question_form",
]
