"""The registry of MTurk operations: each operation module registers its handlers here by name.
Each handler takes (emulator, params, context) and runs under the emulator's lock."""

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
