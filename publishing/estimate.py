"""What a batch costs before anything is sent: HITs, assignments, rewards, MTurk's fees and the
total, against the account's balance and budget cap.

Micro-batching: MTurk charges 40% instead of 20% on a HIT with 10 or more assignments, so an item
that needs 10 or more is cheaper as several HITs of at most 9 (20 -> 9, 9, 2). How the parts of
an item are kept from the same worker is publishing.publish's business; here only the split and
its price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mturk.fees import LARGE_HIT_THRESHOLD, assignment_fee, cents

__all__ = ["MICRO_BATCH_SIZE", "Estimate", "estimate_batch", "split_assignments"]

MICRO_BATCH_SIZE = LARGE_HIT_THRESHOLD - 1


def split_assignments(assignments: int, *, micro_batching: bool) -> list[int]:
    """The HITs (their MaxAssignments) one item becomes."""
    if not micro_batching or assignments < LARGE_HIT_THRESHOLD:
        return [assignments]
    parts = [MICRO_BATCH_SIZE] * (assignments // MICRO_BATCH_SIZE)
    if assignments % MICRO_BATCH_SIZE:
        parts.append(assignments % MICRO_BATCH_SIZE)
    return parts


def _cost(items: int, parts: list[int], reward: Decimal) -> tuple[Decimal, Decimal]:
    rewards = cents(reward) * sum(parts) * items
    fees = sum((assignment_fee(reward, n) * n for n in parts), Decimal("0.00")) * items
    return cents(rewards), cents(fees)


@dataclass
class Estimate:
    items: int
    hits: int
    assignments: int
    rewards: Decimal
    fees: Decimal
    total: Decimal
    parts_per_item: list[int]
    # What the batch would cost in one HIT per item: shows what micro-batching saves.
    total_without_micro_batching: Decimal
    balance: Decimal | None
    cap: Decimal | None
    refusals: list[str] = field(default_factory=list)

    @property
    def saving(self) -> Decimal:
        return self.total_without_micro_batching - self.total

    def as_json(self) -> dict[str, Any]:
        """For PublishBatch.estimate: money as strings (JSON has no decimals)."""
        return {
            "items": self.items,
            "hits": self.hits,
            "assignments": self.assignments,
            "rewards": str(self.rewards),
            "fees": str(self.fees),
            "total": str(self.total),
            "parts_per_item": self.parts_per_item,
            "total_without_micro_batching": str(self.total_without_micro_batching),
            "balance": None if self.balance is None else str(self.balance),
            "cap": None if self.cap is None else str(self.cap),
            "refusals": list(self.refusals),
        }


def estimate_batch(
    *,
    items: int,
    assignments_per_item: int,
    reward: Decimal,
    micro_batching: bool,
    balance: Decimal | None,
    cap: Decimal | None,
) -> Estimate:
    """The cost of `items` HITs (or micro-batched parts) at `reward`, fees included, with the
    reasons the batch may not go (over the budget cap, over the balance)."""
    parts = split_assignments(assignments_per_item, micro_batching=micro_batching)
    rewards, fees = _cost(items, parts, reward)
    plain_rewards, plain_fees = _cost(items, [assignments_per_item], reward)
    estimate = Estimate(
        items=items,
        hits=items * len(parts),
        assignments=items * assignments_per_item,
        rewards=rewards,
        fees=fees,
        total=rewards + fees,
        parts_per_item=parts,
        total_without_micro_batching=plain_rewards + plain_fees,
        balance=balance,
        cap=cap,
    )
    if cap is not None and estimate.total > cap:
        estimate.refusals.append(
            f"The batch costs ${estimate.total} with MTurk's fees, over the account's budget cap "
            f"of ${cap} per publish."
        )
    if balance is not None and estimate.total > balance:
        estimate.refusals.append(
            f"The batch costs ${estimate.total} with MTurk's fees, more than the account's "
            f"balance of ${balance}."
        )
    return estimate
