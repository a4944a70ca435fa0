"""Saving and restoring the whole emulator as one JSON document, written atomically."""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from emulator.engine import Emulator
from emulator.state import State

FORMAT_VERSION = 1


def snapshot_text(emu: Emulator) -> str:
    notifier = emu.notifier.snapshot() if emu.notifier is not None else None
    with emu.lock:
        emu.state.clock_time = max(emu.now, emu.clock.now())
        data = {
            "format": FORMAT_VERSION,
            "seed": emu.seed,
            # For the reader only: a restored emulator takes both speeds from its command line.
            "clock_speed": emu.clock.speed,
            "crowd_speed": emu.crowd_speed,
            "state": emu.state.to_dict(),
            "crowd_running": emu.crowd_running,
            "faults": emu.faults.describe(),
            "rng": _rng_state(emu.rng),
            "crowd_rng": _rng_state(emu.crowd_rng),
            "notifier": notifier,
        }
        # Serialise under the lock: the records are live objects.
        text = json.dumps(data, separators=(",", ":"))
        emu.dirty = False
    return text


def save(emu: Emulator, path: str | os.PathLike[str]) -> None:
    """Write to a temporary file in the same directory, fsync, then rename over the old file."""
    text = snapshot_text(emu)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def load(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    target = Path(path)
    if not target.exists():
        return None
    return json.loads(target.read_text(encoding="utf-8"))


def restore(emu: Emulator, data: dict[str, Any]) -> None:
    with emu.lock:
        emu.seed = data.get("seed", emu.seed)
        emu.load_state(State.from_dict(data["state"]))
        emu.crowd_running = bool(data.get("crowd_running", False))
        faults = dict(data.get("faults") or {})
        faults.pop("seed", None)
        if faults:
            emu.faults.configure(faults)
        if data.get("rng"):
            emu.rng.setstate(_tuple(data["rng"]))
        if data.get("crowd_rng"):
            emu.crowd_rng.setstate(_tuple(data["crowd_rng"]))
    if emu.notifier is not None and data.get("notifier"):
        emu.notifier.restore(data["notifier"])


def _rng_state(rng: random.Random) -> list[Any]:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def _tuple(raw: list[Any]) -> tuple[Any, ...]:
    version, internal, gauss = raw
    return (version, tuple(internal), gauss)
