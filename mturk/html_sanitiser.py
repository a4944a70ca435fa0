"""FormattedContent of a QuestionForm, reduced to the XHTML subset MTurk accepts.

FormattedContent is requester-written HTML, so it is untrusted: :func:`sanitise_formatted_content`
re-emits only the tags and attributes of MTurk's allowlist (API Reference, "Formatted Content:
XHTML"), keeps only URLs of the schemes it allows, drops script and style with their content,
escapes all text and closes every tag it opened. :func:`strip_tags` gives the plain text, for places
that take no markup (an ``<option>`` label).
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

__all__ = ["sanitise_formatted_content", "strip_tags"]

_URL_SCHEMES = ("http://", "https://", "ftp://", "mailto:", "news:", "nntp:", "gopher:", "telnet:")
_GLOBAL_ATTRS = frozenset({"title", "dir", "lang"})
_CELL = frozenset(
    [
        "abbr",
        "align",
        "axis",
        "bgcolor",
        "char",
        "charoff",
        "colspan",
        "headers",
        "height",
        "nowrap",
        "rowspan",
        "scope",
        "valign",
        "width",
    ]
)
_SECTION = frozenset({"align", "char", "charoff", "valign"})
# API Reference, "Formatted Content: XHTML", table of supported tags and attributes.
_FORMATTED_TAGS: dict[str, frozenset[str]] = {
    "a": frozenset(
        [
            "accesskey",
            "charset",
            "coords",
            "href",
            "hreflang",
            "name",
            "rel",
            "rev",
            "shape",
            "tabindex",
            "target",
            "type",
        ]
    ),
    "area": frozenset(["alt", "coords", "href", "nohref", "shape"]),
    "b": frozenset(),
    "big": frozenset(),
    "blockquote": frozenset({"cite"}),
    "br": frozenset(),
    "center": frozenset(),
    "cite": frozenset(),
    "code": frozenset(),
    "col": frozenset({"align", "char", "charoff", "span", "valign", "width"}),
    "colgroup": frozenset({"align", "char", "charoff", "span", "valign", "width"}),
    "dd": frozenset(),
    "del": frozenset({"cite", "datetime"}),
    "dl": frozenset(),
    "dt": frozenset(),
    "em": frozenset(),
    "font": frozenset({"color", "face", "size"}),
    **{f"h{n}": frozenset({"align"}) for n in range(1, 7)},
    "hr": frozenset({"align", "noshade", "size", "width"}),
    "i": frozenset(),
    "img": frozenset(
        [
            "align",
            "alt",
            "border",
            "height",
            "hspace",
            "ismap",
            "longdesc",
            "src",
            "usemap",
            "vspace",
            "width",
        ]
    ),
    "ins": frozenset({"cite", "datetime"}),
    "li": frozenset({"type", "value"}),
    "map": frozenset({"name"}),
    "ol": frozenset({"compact", "start", "type"}),
    "p": frozenset({"align"}),
    "pre": frozenset({"width"}),
    "q": frozenset({"cite"}),
    "small": frozenset(),
    "strong": frozenset(),
    "sub": frozenset(),
    "sup": frozenset(),
    "table": frozenset(
        [
            "align",
            "bgcolor",
            "border",
            "cellpadding",
            "cellspacing",
            "frame",
            "rules",
            "summary",
            "width",
        ]
    ),
    "tbody": _SECTION,
    "td": _CELL,
    "tfoot": _SECTION,
    "th": _CELL,
    "thead": _SECTION,
    "tr": _SECTION | {"bgcolor"},
    "tt": frozenset(),
    "u": frozenset(),
    "ul": frozenset({"compact", "type"}),
}
_VOID = frozenset({"br", "hr", "img", "col", "area", "input"})
_URL_ATTRS = frozenset({"href", "src", "longdesc", "cite"})
_DROP_CONTENT = frozenset({"script", "style"})


class _Sanitiser(HTMLParser):
    """Re-emits only allowed tags and attributes; text is escaped; every opened tag gets closed,
    so a FormattedContent block cannot leak markup into what follows it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.skipping: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skipping:
            return
        if tag in _DROP_CONTENT:
            self.skipping = tag
            return
        allowed = _FORMATTED_TAGS.get(tag)
        if allowed is None:
            return
        kept = []
        for name, value in attrs:
            if name not in allowed and name not in _GLOBAL_ATTRS:
                continue
            value = value or ""
            if name in _URL_ATTRS and not value.strip().lower().startswith(_URL_SCHEMES):
                continue
            if name == "usemap" and not value.startswith("#"):
                continue
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping:
            if tag == self.skipping:
                self.skipping = None
            return
        if tag in self.open:
            while self.open:
                closing = self.open.pop()
                self.out.append(f"</{closing}>")
                if closing == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.out.extend(f"</{tag}>" for tag in reversed(self.open))
        self.open = []
        return "".join(self.out)


def sanitise_formatted_content(markup: str) -> str:
    """FormattedContent reduced to MTurk's XHTML subset (defence in depth: it is also rendered in a
    sandbox where no script may run)."""
    sanitiser = _Sanitiser()
    try:
        sanitiser.feed(markup or "")
        sanitiser.close()
    except Exception:  # html.parser can trip on pathological input; show what was read so far
        pass
    return sanitiser.result()


def strip_tags(markup: str) -> str:
    """The text of ``markup``, without tags or script and style content, whitespace collapsed."""
    parser = _TextOnly()
    try:
        parser.feed(markup or "")
        parser.close()
    except Exception:
        pass
    return " ".join("".join(parser.parts).split())


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skipping = self.skipping or tag in _DROP_CONTENT

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.skipping = False

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)
