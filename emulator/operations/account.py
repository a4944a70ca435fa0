"""Account balance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.operations.registry import Context, operation
from emulator.protocol import format_money

if TYPE_CHECKING:
    from emulator.engine import Emulator


@operation("GetAccountBalance")
def get_account_balance(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # On hold: what approving every submitted assignment would cost (reward plus fee), kept as a
    # running total by the engine rather than summed over every HIT on each call.
    return {
        "AvailableBalance": format_money(emu.state.balance_cents),
        "OnHoldBalance": format_money(emu.on_hold_cents()),
    }
