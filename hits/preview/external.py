"""ExternalQuestion URLs: the URL MTurk frames for workers, and the checks before we frame it.

An ExternalURL is untrusted and is never fetched by the server; the preview page frames it in the
browser, so it must be an https URL (as MTurk requires) and must not be the dashboard's own origin
(the external frame is given allow-same-origin, see :mod:`dashboard.previews`).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from dashboard.previews import HTTPS_ORIGIN

__all__ = [
    "ASSIGNMENT_ID_NOT_AVAILABLE",
    "MTURK_SUBMIT_LIVE",
    "MTURK_SUBMIT_SANDBOX",
    "external_preview_url",
    "https_origin",
    "same_origin",
]

ASSIGNMENT_ID_NOT_AVAILABLE = "ASSIGNMENT_ID_NOT_AVAILABLE"
MTURK_SUBMIT_LIVE = "https://www.mturk.com"
MTURK_SUBMIT_SANDBOX = "https://workersandbox.mturk.com"
# Reserved by MTurk (API Reference, "The Frame's URL and Parameters"): it appends these itself.
_RESERVED_PARAMS = frozenset({"assignmentId", "hitId", "turkSubmitTo", "workerId"})


def external_preview_url(
    url: str,
    *,
    hit_id: str,
    assignment_id: str | None = None,
    worker_id: str | None = None,
    turk_submit_to: str = MTURK_SUBMIT_LIVE,
) -> str:
    """The URL MTurk frames for an ExternalQuestion (API Reference, "The Frame's URL and Parameters").

    In preview MTurk passes ``assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`` and the ``hitId``; once a
    worker has accepted, ``assignmentId``, ``hitId``, ``turkSubmitTo`` and ``workerId``. Parameters
    already in the URL are kept byte for byte, except any reserved name, which MTurk's value replaces.
    """
    base, _, fragment = url.partition("#")
    path, _, query = base.partition("?")
    kept = [
        part for part in query.split("&") if part and part.split("=", 1)[0] not in _RESERVED_PARAMS
    ]
    params: list[tuple[str, str]] = [
        ("assignmentId", assignment_id or ASSIGNMENT_ID_NOT_AVAILABLE),
        ("hitId", hit_id),
    ]
    if assignment_id:
        params.append(("turkSubmitTo", turk_submit_to))
        if worker_id:
            params.append(("workerId", worker_id))
    result = path + "?" + "&".join([*kept, urlencode(params, quote_via=quote, safe="")])
    return result + ("#" + fragment if fragment else "")


def https_origin(url: str) -> str | None:
    """``https://host[:port]`` of an https URL, else None (MTurk requires HTTPS for ExternalURL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() != "https" or not parts.hostname or parts.username is not None:
        return None
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    origin = f"https://{host.lower()}" + (f":{port}" if port and port != 443 else "")
    return origin if HTTPS_ORIGIN.fullmatch(origin) else None


def same_origin(origin: str, other: str | None) -> bool:
    """Whether ``other`` (a URL, e.g. the dashboard's origin) has the scheme, host and port of the
    https ``origin``; a missing port counts as the scheme's default."""
    if not other:
        return False
    other_parts = urlsplit(other)
    try:
        other_port = other_parts.port or {"https": 443, "http": 80}.get(other_parts.scheme)
    except ValueError:
        return False
    origin_parts = urlsplit(origin)
    return (origin_parts.hostname, origin_parts.port or 443, "https") == (
        (other_parts.hostname or "").lower(),
        other_port,
        other_parts.scheme.lower(),
    )
