"""The 39 MTurk operations, registered by name. Each takes (emulator, params, context) under the lock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from emulator.engine import Emulator

Handler: TypeAlias = Callable[["Emulator", dict[str, Any], "Context"], dict[str, Any]]
OPERATIONS: dict[str, Handler] = {}


@dataclass
class Context:
    request_id: str


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        OPERATIONS[name] = func
        return func

    return register


def load() -> dict[str, Handler]:
    # Importing the modules fills the registry.
    from emulator.operations import (  # noqa: F401
        account,
        assignments,
        hits,
        notification_settings,
        qualifications,
        workers,
    )

    return OPERATIONS
