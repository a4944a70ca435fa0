"""Which batch a HIT belongs to, read from its RequesterAnnotation.

MTurk's API has no batches: a batch is a set of HITs published together, and the only place a HIT
can carry that membership is its RequesterAnnotation (a free string, at most 255 characters,
returned by GetHIT/ListHITs and never shown to workers). Two conventions are recognised, both
written as `name:value` parts separated by `;`:

- The Requester website's own batches annotate each HIT as `BatchId:4567890;...` (seen in many
  downloaded batch-results files; the exact shape is UNVERIFIED against the 2017 API reference,
  which does not describe it). Such HITs can only be decided in the Requester website (see
  peers.md), but their progress and results belong together all the same.
- Ours, for HITs published by this dashboard or by a lab's own script: `batch:<label>`, e.g.
  `batch:pilot-2026-11;item:17`. The label is what the batch is called in the dashboard.

A HIT with neither part belongs to no batch: it still appears under its HIT type (study).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BatchLabel", "batch_of", "annotation_for"]

MAX_LABEL = 100
MAX_ANNOTATION = 255  # MTurk's limit on RequesterAnnotation


@dataclass(frozen=True)
class BatchLabel:
    key: str  # unique per account and HIT type: what identifies the batch across syncs
    name: str  # what people see
    source: str  # "requester-website" or "annotation"


def _parts(annotation: str) -> list[tuple[str, str]]:
    parts = []
    for part in annotation.split(";"):
        name, colon, value = part.partition(":")
        if colon and name.strip() and value.strip():
            parts.append((name.strip(), value.strip()))
    return parts


def batch_of(annotation: str | None) -> BatchLabel | None:
    """The batch named by a RequesterAnnotation, or None when it names none."""
    for name, value in _parts(annotation or ""):
        if name == "BatchId" and value.isdigit():
            return BatchLabel(
                key=f"BatchId:{value}", name=f"Batch {value}", source="requester-website"
            )
        if name.lower() == "batch":
            label = value[:MAX_LABEL]
            return BatchLabel(key=f"batch:{label}", name=label, source="annotation")
    return None


def annotation_for(label: str, **extra: object) -> str:
    """A RequesterAnnotation that puts a HIT in the batch `label`, with optional `name:value`
    parts after it (kept within MTurk's 255 characters; `;` cannot appear inside a part)."""
    label = " ".join(label.replace(";", " ").split())[:MAX_LABEL]
    if not label:
        raise ValueError("a batch needs a label")
    parts = [f"batch:{label}"]
    for name, value in extra.items():
        text = str(value).replace(";", ",")
        parts.append(f"{name}:{text}")
    annotation = ";".join(parts)
    if len(annotation) > MAX_ANNOTATION:
        raise ValueError(f"the annotation would be {len(annotation)} characters; MTurk allows 255")
    return annotation
