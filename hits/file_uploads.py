"""Workers' uploaded files (FileUploadAnswer): which answers are files, and the download URL MTurk
hands out for one (GetFileUploadURL). The URL lives about a minute, so it is asked for when the
file is wanted and never stored; and since the browser is sent to it, it must be a URL of MTurk's
file store (https on an amazonaws.com host) or, for an emulator account, of the emulator itself:
never a redirect to anywhere a response could name."""

from __future__ import annotations

from urllib.parse import urlsplit

from dashboard.enums import Environment
from dashboard.models import RequesterAccount
from dashboard.mturk_access import account_gateway
from hits.models import Assignment
from mturk.fetch import url_problem

# mturk.answers.parse_answers shows an UploadedFileKey answer as this, then the key and size.
UPLOADED_PREFIX = "uploaded file "
AMAZON_HOST_SUFFIX = ".amazonaws.com"


class DownloadRefused(ValueError):
    """No file can be offered; the message says why."""


def is_uploaded_file(value: object) -> bool:
    return isinstance(value, str) and value.startswith(UPLOADED_PREFIX)


def uploaded_questions(assignment: Assignment) -> list[str]:
    """The question identifiers of the assignment's answers that are uploaded files."""
    return [name for name, value in (assignment.answers or {}).items() if is_uploaded_file(value)]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def allowed_download_url(account: RequesterAccount, url: str) -> bool:
    """Whether the browser may be sent to `url`: https on an amazonaws.com host (MTurk's signed
    S3 URLs), or, for an emulator account, the emulator's own scheme, host and port."""
    if url_problem(url) is not None:
        return False
    scheme, host, port = _origin(url)
    if account.environment == Environment.EMULATOR and account.endpoint_url:
        return (scheme, host, port) == _origin(account.endpoint_url)
    return scheme == "https" and host.endswith(AMAZON_HOST_SUFFIX) and port in (None, 443)


def download_url(*, account: RequesterAccount, assignment_id: str, question: str) -> str:
    """MTurk's temporary URL for the file a worker uploaded for `question`, checked (one call).
    Raises DownloadRefused when the answer is no file or the URL is not one we may send a browser
    to; MTurkError when MTurk refuses."""
    assignment = Assignment.objects.filter(account=account, assignment_id=assignment_id).first()
    if assignment is None:
        raise DownloadRefused("No such assignment.")
    if question not in uploaded_questions(assignment):
        raise DownloadRefused("That answer is not an uploaded file.")
    with account_gateway(account) as gateway:
        url = gateway.get_file_upload_url(
            assignment_id=assignment.assignment_id, question_identifier=question
        )
    if not allowed_download_url(account, url):
        raise DownloadRefused("MTurk returned a download address that is not its file store.")
    return url
