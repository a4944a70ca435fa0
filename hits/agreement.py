"""Agreement between workers who answered the same HIT: the majority answer per field, how many
agree with it, and who disagrees. Pure functions over parsed answers (field -> value)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Fields MTurk or the form adds that say nothing about the worker's judgement.
IGNORED_FIELDS = frozenset({"assignmentId", "hitId", "workerId", "turkSubmitTo"})


def normalise(value: Any) -> str:
    """Compare answers by content: lists as sorted "|"-joined text, text trimmed and case-folded."""
    if isinstance(value, list):
        return "|".join(sorted(normalise(v) for v in value))
    return str(value).strip().casefold()


@dataclass(frozen=True)
class FieldAgreement:
    field: str
    majority: str | None  # a display value (one of the answers), None when there is no majority
    agreeing: int
    answered: int

    @property
    def share(self) -> float:
        return self.agreeing / self.answered if self.answered else 0.0

    @property
    def unanimous(self) -> bool:
        return self.answered > 1 and self.agreeing == self.answered


def field_names(answer_sets: Iterable[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for answers in answer_sets:
        for name in answers:
            if name not in IGNORED_FIELDS:
                names[name] = None
    return sorted(names)


def agreement(
    answer_sets: Sequence[Mapping[str, Any]], fields: Sequence[str] | None = None
) -> dict[str, FieldAgreement]:
    """Per field: the most common answer (a strict plurality; ties have none) and its support."""
    result = {}
    for name in fields if fields is not None else field_names(answer_sets):
        values = [
            answers[name]
            for answers in answer_sets
            if name in answers and answers[name] not in ("", [])
        ]
        counts = Counter(normalise(v) for v in values)
        if not counts:
            result[name] = FieldAgreement(name, None, 0, 0)
            continue
        (top, top_n), *rest = counts.most_common(2) + [(None, 0)]
        tie = rest and rest[0][1] == top_n
        display = next(v for v in values if normalise(v) == top)
        majority = (
            None
            if tie or len(values) < 2
            else (", ".join(display) if isinstance(display, list) else str(display))
        )
        result[name] = FieldAgreement(name, majority, 0 if majority is None else top_n, len(values))
    return result


def disagrees(answers: Mapping[str, Any], per_field: Mapping[str, FieldAgreement]) -> list[str]:
    """The fields where this assignment's answer differs from a majority that exists."""
    out = []
    for name, fa in per_field.items():
        if fa.majority is None or name not in answers:
            continue
        if normalise(answers[name]) != normalise(
            fa.majority.split(", ") if isinstance(answers[name], list) else fa.majority
        ):
            out.append(name)
    return out
