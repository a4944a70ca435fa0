"""The one way the server fetches a URL on someone's behalf: an emulator's signing certificate, its
SNS subscription call, an SNS SubscribeURL or SigningCertURL.

Each of those URLs comes, in the end, from a user or a message, so a fetch is a way into the
server's network (SSRF). The rules, in one place: http(s) only, a host and no userinfo or fragment
(nor a query where the caller appends paths), redirects never followed (so the host the caller
checked is the only host contacted), the body capped in bytes and the exchange in seconds. Callers
check the host against their own allow-list first, and parse the body as what it must be before
they keep or show any of it.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "FetchError", "Fetched", "fetch", "url_problem"]

DEFAULT_MAX_BYTES = 64 * 1024
DEFAULT_TIMEOUT = 5.0
USER_AGENT = "mturk-dashboard"
_CHUNK = 8192


class FetchError(OSError):
    """The fetch was refused or failed. The message names the URL and the reason, never the body
    (which may be anything a foreign server sent)."""


@dataclass(frozen=True)
class Fetched:
    status: int
    content_type: str
    body: bytes


def url_problem(url: str, *, allow_query: bool = True) -> str | None:
    """Why the server must not fetch ``url``, or None when it may.

    ``allow_query=False`` is for a base URL that paths get appended to (an account's endpoint): a
    ``?`` there would turn the appended path into a query string and point the fetch anywhere on
    the host. Spaces, control characters and backslashes are refused because URL parsers disagree
    about them (``http://a\\@b/`` is host ``b`` to some and ``a`` to others).
    """
    if any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        return "it contains spaces, control characters or backslashes"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed or out-of-range port
    except ValueError:
        return "it is not a valid URL"
    if port == 0:
        return "it names port 0"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs may be fetched"
    if not parts.hostname:
        return "it names no host"
    if "@" in parts.netloc:
        return "it holds a user name or password"
    if "#" in url:
        return "it has a fragment (#)"
    if not allow_query and "?" in url:
        return "it has a query (?)"
    return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Refuse every redirect: returning None makes urllib raise HTTPError for the 3xx itself."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> None:
        return None


# build_opener leaves out its default redirect handler when given a subclass of it.
_OPENER = urllib.request.build_opener(_NoRedirects)


def fetch(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    allow_query: bool = True,
) -> Fetched:
    """One bounded request; a 2xx answer's body, or FetchError.

    The body is read a chunk at a time against a deadline of ``timeout`` seconds, so a server that
    drips bytes cannot hold the caller: each read waits at most ``timeout`` too, so the whole
    exchange ends within about twice ``timeout``.
    """
    problem = url_problem(url, allow_query=allow_query)
    if problem:
        raise FetchError(f"refused to fetch {url!r}: {problem}")
    request = urllib.request.Request(
        url, data=data, method=method, headers={"User-Agent": USER_AGENT, **(headers or {})}
    )
    deadline = time.monotonic() + timeout
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            declared = (response.headers.get("Content-Length") or "").strip()
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{url} answered too large a body (over {max_bytes} bytes)")
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"{url} took longer than {timeout:g} s to answer")
                # read1: at most one receive, so the deadline is checked between slow packets.
                chunk = response.read1(min(_CHUNK, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url} answered too large a body (over {max_bytes} bytes)")
            return Fetched(
                status=response.status,
                content_type=response.headers.get("Content-Type", ""),
                body=b"".join(chunks),
            )
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            raise FetchError(f"{url} answered {exc.code} (a redirect, not followed)") from None
        raise FetchError(f"{url} answered HTTP {exc.code}") from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # URLError, timeouts, refused connections, malformed responses: one kind of failure.
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(f"could not fetch {url}: {reason}") from None
