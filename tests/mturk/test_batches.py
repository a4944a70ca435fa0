"""Reading a HIT's batch from its RequesterAnnotation, and writing one."""

from __future__ import annotations

import pytest

from mturk.batches import BatchLabel, annotation_for, batch_of


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        # The Requester website's own batches.
        (
            "BatchId:4567890;OriginalHitTemplateId:928390909;",
            BatchLabel("BatchId:4567890", "Batch 4567890", "requester-website"),
        ),
        # Ours, with other parts before and after, any case, spaces trimmed.
        ("batch:pilot-1;item:17", BatchLabel("batch:pilot-1", "pilot-1", "annotation")),
        ("item:3; Batch: Wave 2 ", BatchLabel("batch:Wave 2", "Wave 2", "annotation")),
        ("batch:a:b", BatchLabel("batch:a:b", "a:b", "annotation")),
        # Nothing that names a batch.
        (None, None),
        ("", None),
        ("demo:3", None),
        ("batch:", None),
        ("batch:   ;item:2", None),
        ("BatchId:abc", None),
        ("just a note about the HIT", None),
    ],
)
def test_batch_of(annotation, expected):
    assert batch_of(annotation) == expected


def test_a_long_label_is_cut_to_a_hundred_characters():
    label = batch_of("batch:" + "x" * 150)

    assert label is not None and label.name == "x" * 100 and label.key == "batch:" + "x" * 100


def test_annotation_for_round_trips_through_batch_of():
    annotation = annotation_for("Wave 2; second try", item=17, note="a;b")

    assert annotation == "batch:Wave 2 second try;item:17;note:a,b"
    assert batch_of(annotation) == BatchLabel(
        "batch:Wave 2 second try", "Wave 2 second try", "annotation"
    )


def test_annotation_for_refuses_what_mturk_would_not_take():
    with pytest.raises(ValueError, match="label"):
        annotation_for("  ;  ")
    with pytest.raises(ValueError, match="255"):
        annotation_for("pilot", note="n" * 300)
