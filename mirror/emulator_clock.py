"""How far an emulator account's clock runs from real time, for the overview's sync panel.

The emulator answers with the wall clock unless a test advanced it or it was started with an
accelerated `--clock-speed`; then every time the mirror shows (submissions, expiry) is
off by that much, and the overview says so. The figure comes from the emulator's control API
(`GET /_emulator/clock`) through the bounded fetch (mturk.fetch): the account's own endpoint only, no
redirects, a short timeout, a small body parsed as the JSON it must be. The answer (or its failure)
is cached briefly, so a page view costs at most one small local request per account and interval.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.cache import cache

from dashboard.enums import Environment
from dashboard.models import RequesterAccount
from mturk.fetch import FetchError, fetch

log = logging.getLogger(__name__)

CACHE_SECONDS = 30
FETCH_TIMEOUT_SECONDS = 2.0
MAX_RESPONSE_BYTES = 4096
# Below this the clock counts as real time: the emulator reports milliseconds, and a clock restored
# from a state file may sit a few microseconds off.
REAL_TIME_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class EmulatorClock:
    """``offset``: seconds the emulator's clock is ahead of real time (negative: behind);
    ``speed``: its emulated seconds per real second. ``reachable`` False: no figure could be read."""

    reachable: bool
    offset: float = 0.0
    speed: float = 1.0

    @property
    def is_real_time(self) -> bool:
        return self.reachable and abs(self.offset) < REAL_TIME_TOLERANCE_SECONDS and self.speed == 1

    @property
    def description(self) -> str:
        """What the overview says when the clock is not real time."""
        if not self.reachable:
            return "not reachable"
        if abs(self.offset) < REAL_TIME_TOLERANCE_SECONDS:
            parts = ["on real time"]
        else:
            side = "ahead of" if self.offset > 0 else "behind"
            parts = [f"{duration_text(abs(self.offset))} {side} real time"]
        if self.speed == 0:
            parts.append("stopped")
        elif self.speed != 1:
            parts.append(f"running {self.speed:g}× real time")
        return ", ".join(parts)


def duration_text(seconds: float) -> str:
    """A lead in the two largest units that matter: "3 d 4 h", "2 h 5 min", "4 min 10 s", "12 s"."""
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def emulator_clock(account: RequesterAccount) -> EmulatorClock | None:
    """The account's emulator clock (cached for CACHE_SECONDS); None for sandbox and live
    accounts, whose clock is MTurk's."""
    if account.environment != Environment.EMULATOR:
        return None
    endpoint = account.effective_endpoint_url
    key = "mirror:emulator-clock:" + hashlib.sha256(endpoint.encode()).hexdigest()[:32]
    cached = cache.get(key)
    if isinstance(cached, EmulatorClock):
        return cached
    clock = read_emulator_clock(endpoint)
    cache.set(key, clock, CACHE_SECONDS)
    return clock


def read_emulator_clock(endpoint_url: str) -> EmulatorClock:
    """GET <endpoint>/_emulator/clock through the bounded fetch; any failure is an unreachable
    clock, never an error on the page."""
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return EmulatorClock(reachable=False)
    url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/_emulator/clock"
    try:
        response = fetch(
            url,
            headers={"Accept": "application/json"},
            max_bytes=MAX_RESPONSE_BYTES,
            timeout=FETCH_TIMEOUT_SECONDS,
            allow_query=False,
        )
        if "json" not in response.content_type:
            raise ValueError("not JSON")
        data = json.loads(response.body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        offset, speed = _number(data.get("offset")), _number(data.get("speed"))
    except (FetchError, ValueError) as exc:
        log.info("emulator clock at %s not readable: %s", url, exc)
        return EmulatorClock(reachable=False)
    return EmulatorClock(reachable=True, offset=offset, speed=speed)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a number: {value!r}")
    return float(value)
