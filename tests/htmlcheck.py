"""Reading rendered pages as a browser would, with the standard library's HTML parser: which forms
sit inside other forms, and what a form would submit."""

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


class _FormData(HTMLParser):
    """The successful controls of one form: inside it, or outside with its form= attribute."""

    def __init__(self, form_id: str | None, action: str | None) -> None:
        super().__init__()
        self.form_id, self.action = form_id, action
        self.inside = 0
        self.found = False
        self.fields: list[tuple[str, str]] = []
        self.buttons: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def _wanted_form(self, attrs: dict[str, str | None]) -> bool:
        if self.form_id is not None:
            return attrs.get("id") == self.form_id
        return attrs.get("action") == self.action

    def _belongs(self, attrs: dict[str, str | None]) -> bool:
        owner = attrs.get("form")
        if owner is not None:
            return self.form_id is not None and owner == self.form_id
        return self.inside > 0

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attr_list)
        if tag == "form":
            if self.inside:
                self.inside += 1
            elif self._wanted_form(attrs):
                self.inside, self.found = 1, True
            return
        if tag == "option" and self._select is not None:
            self._options.append((attrs.get("value") or "", "selected" in attrs))
            return
        if not self._belongs(attrs) or "disabled" in attrs or not attrs.get("name"):
            return
        name = attrs["name"] or ""
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            self.fields.append((name, attrs.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "button":
            self.buttons.append((name, attrs.get("value") or ""))
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "textarea":
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside -= 1
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected] or [
                value for value, _ in self._options[:1]
            ]
            self.fields += [(self._select, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text))
            self._textarea = None


def form_data(
    html: str, *, form_id: str | None = None, action: str | None = None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What the form (found by id, else by action) submits as it stands: its fields as
    (name, value) pairs, and its named buttons (a browser adds the one clicked)."""
    parser = _FormData(form_id, action)
    parser.feed(html)
    parser.close()
    if not parser.found:
        raise AssertionError(f"No form with id={form_id!r} / action={action!r} in the page.")
    return parser.fields, parser.buttons


def as_post(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(name, value) pairs as the dict of lists Django's test client posts."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def confirmation_page(client, url: str, data: dict, *, button: str = "go") -> tuple[str, dict]:
    """Post `data` to `url` (a first step that answers with a confirmation page); the page, and
    what its form (the one posting back to `url`) sends when its `button` is pressed, as a browser
    would send it."""
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    body = response.content.decode()
    fields, buttons = form_data(body, action=url)
    return body, as_post(fields + [pair for pair in buttons if pair[0] == button])
