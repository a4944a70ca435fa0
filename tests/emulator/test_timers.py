"""Timers fire through an explicit registry of handlers, one per kind (engine.TIMER_HANDLERS)."""

from __future__ import annotations

import logging

import pytest

from emulator import engine
from emulator.engine import TIMER_HANDLERS, Emulator, register_timer


def test_every_kind_the_emulator_schedules_has_a_handler():
    assert set(TIMER_HANDLERS) == {
        "expire",
        "deadline",
        "autoapprove",
        "dispose",
        "dispose-retry",
        "worker",
    }


def test_a_due_timer_goes_to_the_handler_registered_for_its_kind(monkeypatch):
    fired: list[tuple[str, float]] = []
    monkeypatch.setitem(TIMER_HANDLERS, "probe", lambda emu, ref, when: fired.append((ref, when)))
    emu = Emulator(seed=1)
    now = emu.clock.now()
    emu.schedule(now + 10, "probe", "first")
    emu.schedule(now + 5, "probe", "second")
    emu.advance_to(now + 7)
    assert fired == [("second", now + 5)]
    emu.advance_to(now + 20)
    assert fired == [("second", now + 5), ("first", now + 10)]


def test_a_kind_has_one_handler_and_an_unknown_kind_is_skipped(caplog):
    with pytest.raises(ValueError, match="already has a handler"):
        register_timer("expire", TIMER_HANDLERS["expire"])
    emu = Emulator(seed=1)
    emu.schedule(emu.clock.now() - 1, "no-such-kind", "ref")
    with caplog.at_level(logging.WARNING, logger=engine.log.name):
        emu.advance_to(emu.clock.now())
    assert "no-such-kind" in caplog.text
    assert emu.next_timer() is None
