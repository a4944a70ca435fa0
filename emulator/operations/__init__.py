"""The 39 MTurk operations, by name (see registry.py). Importing the operation modules here fills
the registry, so `OPERATIONS` is complete once this package is imported."""

from __future__ import annotations

from emulator.operations import (
    account,
    assignments,
    hits,
    notification_settings,
    qualifications,
    workers,
)
from emulator.operations.registry import OPERATIONS, Context, Handler

__all__ = [
    "OPERATIONS",
    "Context",
    "Handler",
    "account",
    "assignments",
    "hits",
    "load",
    "notification_settings",
    "qualifications",
    "workers",
]


def load() -> dict[str, Handler]:
    """Every operation's handler by name."""
    return OPERATIONS
