"""MTurk's commission, as Decimal, the way the UI shows costs before a bulk action.

Rules (DESIGN.md "Money rules", MTurk's pricing page since July 2015): the fee on an assignment
reward is 20%, or 40% when the HIT has 10 or more assignments (MaxAssignments >= 10); the fee on a
bonus is 20%; the minimum fee is $0.01 per assignment and per bonus. Neither the 2017 API reference
nor reference/mturk-protocol.md states fees at all (they are charged, never returned by the API),
so the $0.01 minimum rests on MTurk's pricing page and is UNVERIFIED against the shared references;
it matches the emulator (``emulator.protocol.fee_cents``: half-up to the cent, at least one cent on
a non-zero amount, nothing on zero). Masters / premium-qualification surcharges are not modelled.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = [
    "ASSIGNMENT_FEE_RATE",
    "BONUS_FEE_RATE",
    "LARGE_HIT_FEE_RATE",
    "LARGE_HIT_THRESHOLD",
    "MINIMUM_FEE",
    "assignment_cost",
    "assignment_fee",
    "bonus_cost",
    "bonus_fee",
    "cents",
    "total_cost",
]

CENT = Decimal("0.01")
ASSIGNMENT_FEE_RATE = Decimal("0.20")
LARGE_HIT_FEE_RATE = Decimal("0.40")
LARGE_HIT_THRESHOLD = 10
BONUS_FEE_RATE = Decimal("0.20")
MINIMUM_FEE = Decimal("0.01")


def cents(amount: Decimal | str | int) -> Decimal:
    """Round to the cent, half up (MTurk amounts have at most two decimals)."""
    return Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)


def _fee(amount: Decimal, rate: Decimal) -> Decimal:
    amount = Decimal(str(amount))
    if amount < 0:
        raise ValueError("amounts are never negative")
    if amount == 0:
        return Decimal("0.00")
    return max(cents(amount * rate), MINIMUM_FEE)


def assignment_fee(reward: Decimal, max_assignments: int) -> Decimal:
    """The fee on one assignment of a HIT with ``max_assignments`` assignments."""
    rate = LARGE_HIT_FEE_RATE if max_assignments >= LARGE_HIT_THRESHOLD else ASSIGNMENT_FEE_RATE
    return _fee(reward, rate)


def assignment_cost(reward: Decimal, max_assignments: int) -> Decimal:
    """What approving one assignment costs: reward plus fee."""
    return cents(reward) + assignment_fee(reward, max_assignments)


def bonus_fee(amount: Decimal) -> Decimal:
    return _fee(amount, BONUS_FEE_RATE)


def bonus_cost(amount: Decimal) -> Decimal:
    """What one bonus costs: amount plus fee."""
    return cents(amount) + bonus_fee(amount)


def total_cost(
    *,
    reward: Decimal = Decimal("0"),
    max_assignments: int = 1,
    assignments: int = 0,
    bonuses: list[Decimal] | tuple[Decimal, ...] = (),
) -> Decimal:
    """Cost of ``assignments`` approvals at ``reward`` on HITs with ``max_assignments`` plus the given
    bonuses, fees included; each fee is rounded per assignment / per bonus, as MTurk charges them."""
    total = assignment_cost(reward, max_assignments) * assignments if assignments else Decimal(0)
    for amount in bonuses:
        total += bonus_cost(amount)
    return cents(total)
