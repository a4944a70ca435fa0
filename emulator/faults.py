"""Faults on demand: throttling, service faults, latency, notification drops/duplicates/reordering."""

from __future__ import annotations

import random
import threading
from typing import Any

FIELDS = ("throttle_rate", "fault_rate", "latency_ms", "drop_rate", "duplicate_rate", "reorder")


class Faults:
    """Seeded fault switches. The notifier reads drop_rate/duplicate_rate/reorder directly."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self.seed = seed
        self.rng = random.Random(seed)
        self.throttle_rate = 0.0
        self.fault_rate = 0.0
        self.latency_ms = 0.0
        self.drop_rate = 0.0
        self.duplicate_rate = 0.0
        self.reorder = 0.0
        # Per-operation overrides, e.g. {"ApproveAssignment": {"throttle_rate": 1.0}}.
        self.operations: dict[str, dict[str, float]] = {}

    def configure(self, settings: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for key, value in settings.items():
                if key == "seed":
                    self.seed = int(value)
                    self.rng = random.Random(self.seed)
                elif key == "operations":
                    if not isinstance(value, dict):
                        raise ValueError("operations must map operation names to fault settings")
                    self.operations = {
                        op: {k: _rate(k, v) for k, v in fs.items()} for op, fs in value.items()
                    }
                elif key in FIELDS:
                    setattr(self, key, _rate(key, value))
                else:
                    raise ValueError(f"unknown fault setting {key!r}")
        return self.describe()

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in FIELDS}
        data["seed"] = self.seed
        data["operations"] = self.operations
        return data

    def _value(self, operation: str, name: str) -> float:
        return self.operations.get(operation, {}).get(name, getattr(self, name))

    def decide(self, operation: str) -> tuple[float, str | None]:
        """(latency seconds, None | "throttle" | "fault") for one API call."""
        with self._lock:
            latency = self._value(operation, "latency_ms") / 1000.0
            if self.rng.random() < self._value(operation, "throttle_rate"):
                return latency, "throttle"
            if self.rng.random() < self._value(operation, "fault_rate"):
                return latency, "fault"
            return latency, None


def _rate(name: str, value: Any) -> float:
    number = float(value)
    if name == "latency_ms":
        if number < 0:
            raise ValueError("latency_ms must be >= 0")
    elif not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    return number
