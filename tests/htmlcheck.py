"""Reading rendered pages as a browser would, with the standard library's HTML parser: which forms
sit inside other forms."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormNesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open_forms: list[str] = []
        self.nested: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "form":
            return
        described = " ".join(f"{k}={v!r}" for k, v in attrs if k in ("id", "action", "class"))
        if self.open_forms:
            self.nested.append(f"<form {described}> inside <form {self.open_forms[-1]}>")
        self.open_forms.append(described)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.open_forms:
            self.open_forms.pop()


def nested_forms(html: str) -> list[str]:
    """Every <form> that opens while another is open (the HTML parser would drop it)."""
    parser = _FormNesting()
    parser.feed(html)
    parser.close()
    return parser.nested
