"""Opaque, stable NextTokens: a page resumes after the sequence number of the last item shown.

Items are listed in creation order, so rows created while a client pages appear at the end and never
shift the pages already handed out.

The shape of a listing is MTurk's (issue 11): every page with results carries a NextToken, and a
listing ends with a page of NumResults 0 and no token. Real clients depend on it: research tools
loop `while len(HITs) > 0: list_hits(NextToken=page["NextToken"])` and read the token
unconditionally; botocore's paginators stop one call later, on the empty page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any, TypeVar

from emulator.protocol import invalid_param

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 10
START = -(10**18)  # before every sequence number (built-in records use negative ones)


def encode_token(operation: str, after_seq: int, scope: str) -> str:
    raw = json.dumps({"o": operation, "a": after_seq, "s": scope}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str | None, operation: str, scope: str) -> int:
    if token is None:
        return START
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["o"] != operation or data["s"] != scope:
            raise ValueError("token for another listing")
        return int(data["a"])
    except (ValueError, KeyError, TypeError):
        raise invalid_param(f"The pagination token {token!r} is not valid.") from None


def page(
    params: dict[str, Any],
    operation: str,
    items_after: Callable[[int], Iterable[T]],
    seq_of: Callable[[T], int],
    render: Callable[[T], Any],
    result_key: str,
    scope: str = "",
) -> dict[str, Any]:
    """One page of `items_after(after_seq)` (ascending seq, already filtered): a NextToken whenever
    the page has results, none on the empty page that ends the listing."""
    size = page_size(params)
    after = decode_token(params.get("NextToken"), operation, scope)
    chosen = list(islice(items_after(after), size))
    result: dict[str, Any] = {"NumResults": len(chosen), result_key: [render(i) for i in chosen]}
    if chosen:
        result["NextToken"] = encode_token(operation, seq_of(chosen[-1]), scope)
    return result


def page_size(params: dict[str, Any]) -> int:
    size = params.get("MaxResults") or DEFAULT_PAGE_SIZE
    if not 1 <= size <= 100:
        raise invalid_param("MaxResults must be between 1 and 100.")
    return int(size)


def after_in(records: Iterable[T], seq_of: Callable[[T], int]) -> Callable[[int], Iterable[T]]:
    """Adapter for small collections: sort once by seq and skip to the resume point."""
    ordered = sorted(records, key=seq_of)

    def items_after(after: int) -> Iterable[T]:
        return (r for r in ordered if seq_of(r) > after)

    return items_after
