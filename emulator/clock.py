"""The emulated clock: the wall clock by default, plus explicit jumps for tests.

Real clients compare the emulator's timestamps with their own clocks (a HIT's Expiration to decide
whether it has expired, a SubmitTime shown as "2 minutes ago"), so by default the clock the API
answers with is the wall clock itself. Tests move it forwards with `advance`; an accelerated clock
(`speed` > 1, `--clock-speed`) exists for rehearsals where nobody compares times, and puts every
timestamp ahead of the clients' clocks.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Emulated epoch seconds.

    now = anchor_emulated + (time() - anchor_real) * speed. At speed 1 and with no jumps the two
    anchors are equal and `now()` is `time.time()`. Changing the speed re-anchors, so emulated time
    never jumps backwards; `advance` moves it forwards by an exact amount; `offset` is how far it
    is from the wall clock.
    """

    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._anchor_real = time.time()
        self._anchor_emulated = self._anchor_real if start is None else float(start)

    @property
    def speed(self) -> float:
        return self._speed

    def _now(self, real: float) -> float:
        return self._anchor_emulated + (real - self._anchor_real) * self._speed

    def now(self) -> float:
        with self._lock:
            return self._now(time.time())

    def reading(self) -> tuple[float, float]:
        """(emulated now, wall-clock now) read together, so their difference is exact."""
        with self._lock:
            real = time.time()
            return self._now(real), real

    def offset(self) -> float:
        """Seconds the emulated clock is ahead of the wall clock (0.0 unless jumped or sped up)."""
        now, real = self.reading()
        return now - real

    def _reanchor(self) -> None:
        real = time.time()
        self._anchor_emulated = self._now(real)
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
            self._anchor_real = time.time()
            self._anchor_emulated = float(when)

    def reset(self, *, speed: float) -> None:
        """Back to the wall clock at `speed`: a fresh emulator's clock (only with no state left that
        was stamped by the old one, as after a reset)."""
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._speed = float(speed)
            self._anchor_real = time.time()
            self._anchor_emulated = self._anchor_real
