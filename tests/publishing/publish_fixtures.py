"""Shared helpers for the publishing tests: a template, an inputs file, a batch made and published
through the services, the emulator's HITs by item."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from mturk.batches import batch_of
from publishing.enums import TemplateKind
from publishing.models import QuestionTemplate
from publishing.publish import create_draft

TEMPLATE_HTML = (
    "<!DOCTYPE html><html><body><form name='mturk_form' method='post' "
    "action='https://www.mturk.com/mturk/externalSubmit'>"
    "<input type='hidden' name='assignmentId' value=''>"
    "<p>Is ${animal} a ${kind}?</p><label><input type='radio' name='answer' value='yes'>Yes</label>"
    "<label><input type='radio' name='answer' value='no'>No</label>"
    "<input type='submit'></form></body></html>"
)


def make_template(account: Any, *, content: str = TEMPLATE_HTML) -> QuestionTemplate:
    template, _ = QuestionTemplate.objects.update_or_create(
        account=account,
        name="Animals",
        defaults={"kind": TemplateKind.HTML, "content": content, "frame_height": 450},
    )
    return template


def inputs_csv(rows: list[dict[str, str]], *, columns: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns or list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def animal_rows(count: int) -> list[dict[str, str]]:
    return [{"animal": f"animal <{i}> & co", "kind": f"kind-{i % 7}"} for i in range(count)]


def hit_settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "title": "Is it a cat?",
        "description": "Say whether the animal is of the kind",
        "keywords": "animals, labels",
        "reward": "0.10",
        "max_assignments": 1,
        "assignment_duration_seconds": 600,
        "lifetime_seconds": 86400,
        "auto_approval_delay_seconds": 86400,
    }
    settings.update(overrides)
    return settings


def draft(
    account: Any,
    data: bytes,
    *,
    user: Any = None,
    micro_batching: bool = False,
    requirements: list[dict[str, Any]] | None = None,
    **settings: Any,
):
    return create_draft(
        account=account,
        label="animals-1",
        template=make_template(account),
        hit_settings=hit_settings(**settings),
        requirements=requirements or [],
        micro_batching=micro_batching,
        inputs_filename="animals.csv",
        inputs=data,
        requested_by=user,
    )


def emulator_hits_by_item(
    control: Any, label: str = "animals-1"
) -> dict[str, list[dict[str, Any]]]:
    """The emulator's HITs of the batch, by the item named in their annotation."""
    by_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for hit in control.truth("hits")["hits"]:
        annotation = hit.get("RequesterAnnotation") or ""
        found = batch_of(annotation)
        if found is None or found.name != label:
            continue
        item = dict(part.split(":", 1) for part in annotation.split(";"))["item"]
        by_item[item].append(hit)
    return dict(by_item)
