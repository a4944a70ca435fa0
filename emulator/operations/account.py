"""Account balance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.operations.registry import Context, operation
from emulator.protocol import format_money
from emulator.state import DISPOSED

if TYPE_CHECKING:
    from emulator.engine import Emulator


@operation("GetAccountBalance")
def get_account_balance(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # On hold: what approving every submitted assignment would cost (reward plus fee).
    on_hold = 0
    for hit in emu.state.hits.values():
        if hit.n_submitted and hit.status != DISPOSED:
            reward, fee = emu.assignment_cost(hit)
            on_hold += hit.n_submitted * (reward + fee)
    return {
        "AvailableBalance": format_money(emu.state.balance_cents),
        "OnHoldBalance": format_money(on_hold),
    }
