"""The emulated clock: real time scaled by a speed factor, plus explicit jumps for tests."""

from __future__ import annotations

import threading
import time


class Clock:
    """Emulated epoch seconds.

    now = anchor_emulated + (monotonic() - anchor_real) * speed. Changing the speed re-anchors, so
    emulated time never jumps backwards; `advance` moves it forwards by an exact amount.
    """

    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._anchor_real = time.monotonic()
        self._anchor_emulated = time.time() if start is None else float(start)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        with self._lock:
            return self._anchor_emulated + (time.monotonic() - self._anchor_real) * self._speed

    def _reanchor(self) -> None:
        real = time.monotonic()
        self._anchor_emulated += (real - self._anchor_real) * self._speed
        self._anchor_real = real

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._reanchor()
            self._speed = float(speed)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forwards")
        with self._lock:
            self._reanchor()
            self._anchor_emulated += seconds
            return self._anchor_emulated

    def set(self, when: float) -> None:
        """Restore a persisted emulated time (never used to go backwards while running)."""
        with self._lock:
            self._anchor_real = time.monotonic()
            self._anchor_emulated = float(when)
