"""One URL, two answers: a page, or for htmx the fragment of it that a filter or a page link swaps
in (and pushes the URL of). The views that do this decide with `wants_fragment` (or name the
template with `page_or_fragment`) and are decorated with `vary_on_htmx`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

# The request headers that choose between the page and the fragment. htmx sends HX-Request on a
# history restore too, so a cache must key on both or it may answer a restore with a fragment.
HTMX_VARY_HEADERS = ("HX-Request", "HX-History-Restore-Request")


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx request, but not a history restore: when the back button finds no snapshot in its
    cache, htmx asks again for the pushed URL and needs the whole page."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def page_or_fragment(request: HttpRequest, template_name: str, partial: str) -> str:
    """The page's template, or its `partial` (django-template-partials) when `wants_fragment`."""
    return f"{template_name}#{partial}" if wants_fragment(request) else template_name


def vary_on_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark every response of a page-or-fragment view as varying on the htmx headers, so neither
    the browser nor a proxy hands the fragment to a plain visit of the URL, or the reverse."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        patch_vary_headers(response, HTMX_VARY_HEADERS)
        return response

    return wrapper
