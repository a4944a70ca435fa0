"""Reading MTurk's question documents (QuestionForm, HTMLQuestion, ExternalQuestion) safely.

The documents are untrusted: :func:`parse_xml` uses defusedxml (no entities, no DTDs) and reports a
malformed document instead of raising. Lookups ignore namespaces, because the QuestionForm schema
has two namespaces in use (2005 and 2017) and tools vary or omit them.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

__all__ = [
    "child_text",
    "find_child",
    "find_children",
    "local_name",
    "parse_int",
    "parse_xml",
]


def local_name(tag: Any) -> str:
    """The tag without its ``{namespace}``; ``""`` for comments and processing instructions."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def find_children(elem: Element, name: str) -> list[Element]:
    """The children of ``elem`` named ``name``, whatever their namespace."""
    return [child for child in elem if local_name(child.tag) == name]


def find_child(elem: Element | None, name: str) -> Element | None:
    """The first child of ``elem`` named ``name``, whatever its namespace; None if none."""
    if elem is None:
        return None
    for child in elem:
        if local_name(child.tag) == name:
            return child
    return None


def child_text(elem: Element | None, name: str, default: str = "") -> str:
    """The stripped text of the first child named ``name``; ``default`` if absent or empty."""
    child = find_child(elem, name)
    if child is None or child.text is None:
        return default
    return child.text.strip()


def parse_int(value: str | None, default: int | None = None) -> int | None:
    """``value`` as an int, or ``default`` when it is not one."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def parse_xml(xml: str) -> tuple[Element | None, str]:
    """``(root, "")``, or ``(None, why)`` when the document is malformed or unsafe."""
    try:
        return SafeET.fromstring(xml), ""
    except (DefusedXmlException, ParseError, ValueError) as exc:
        return None, str(exc) or exc.__class__.__name__
