from __future__ import annotations

from django.db import models

from dashboard.enums import IntentState

# Bonuses, block changes and messages are intents (dashboard.intents): their states are the shared
# ones ("done" reads as "sent" for a bonus).
BonusState = IntentState


class BlockAction(models.TextChoices):
    BLOCK = "block", "Block"
    UNBLOCK = "unblock", "Unblock"


class RecipientOutcome(models.TextChoices):
    """What MTurk said about one worker of a NotifyWorkers call."""

    PENDING = "pending", "Not sent yet"
    SENT = "sent", "Sent"
    SOFT_FAILURE = "soft_failure", "Soft failure (may succeed later)"
    HARD_FAILURE = "hard_failure", "Hard failure"
    # The worker died mid-call: MTurk offers no way to check whether the message went out.
    UNKNOWN = "unknown", "Unknown (the call was interrupted)"
    FAILED = "failed", "Not sent (the call failed)"


class BlockKind(models.TextChoices):
    # CreateWorkerBlock: the worker can take none of the account's HITs.
    HARD = "hard", "Hard block (MTurk worker block)"
    # The lab's exclusion qualification: kept out of HITs that require its absence (ours), and
    # nothing is recorded against the worker at MTurk.
    SOFT = "soft", "Soft block (the lab's exclusion qualification)"
