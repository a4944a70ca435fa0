"""The qualification test editor's business rules: what MTurk accepts as a type's test, and saving
one (UpdateQualificationType) as an audited call, then into the mirror.

The documents themselves (building, parsing, validating, scoring) are the framework-free
:mod:`mturk.qualification_test`; this module adds the rules that depend on the type and MTurk's
request limits, and the one call that changes MTurk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dashboard.models import RequesterAccount
from dashboard.services import audited_mturk_call
from mturk.gateway import MTurkGateway
from mturk.qualification_test import (
    QualificationTest,
    UnrepresentableTest,
    check_key_against_form,
    parse_test,
    validate_answer_key,
    validate_question_form,
)
from qualifications.models import QualificationType

__all__ = [
    "NO_REMOVAL",
    "TestDocuments",
    "editable_test",
    "save_test",
    "test_problems",
]

# API Reference, UpdateQualificationType: "There is no way to remove a test from a Qualification
# type that has one." The editor says so instead of offering a button MTurk would ignore.
NO_REMOVAL = (
    "MTurk cannot remove a test from a qualification type that has one: UpdateQualificationType "
    "only replaces it. To stop testing workers, create a new type without a test and dispose of "
    "this one."
)


@dataclass(frozen=True)
class TestDocuments:
    """What UpdateQualificationType sends: Test, AnswerKey ("" for none) and TestDurationInSeconds."""

    __test__ = False  # not a pytest test class, whatever its name

    question_form: str
    answer_key: str
    duration_seconds: int | None
    # Keep the answer key in the dashboard (QualificationType.review_answer_key) rather than send
    # it: requests then wait in the queue, scored there, for the lab to decide.
    keep_key_here: bool = False

    @property
    def sent_answer_key(self) -> str:
        return "" if self.keep_key_here else self.answer_key


def test_problems(
    qualification_type: QualificationType, documents: TestDocuments, *, check_duration: bool = True
) -> list[str]:
    """Why MTurk would refuse these documents as the type's test (``[]`` if it would not): the
    type's own rules, the duration (unless the caller's form already reports it), then each schema
    error of the two documents and where the key does not fit the questions."""
    problems = []
    if qualification_type.auto_granted:
        # CreateQualificationType / UpdateQualificationType: Test "cannot be specified if
        # AutoGranted is true".
        problems.append(
            "This type is auto-granted, and an auto-granted type cannot have a test. Turn "
            "auto-granting off first."
        )
    if not check_duration:
        pass
    elif documents.duration_seconds is None:
        problems.append("A test needs a duration (TestDurationInSeconds).")
    elif documents.duration_seconds < 1:
        problems.append("The test duration must be at least one second.")
    problems += validate_question_form(documents.question_form)
    if documents.answer_key.strip():
        key_problems = validate_answer_key(documents.answer_key)
        problems += key_problems
        if not key_problems:
            problems += check_key_against_form(documents.question_form, documents.answer_key)
    return problems


def scoring_key(qualification_type: QualificationType) -> str:
    """The answer key that scores the type's test: MTurk's, or the one the lab keeps here."""
    return qualification_type.answer_key or qualification_type.review_answer_key


def editable_test(
    qualification_type: QualificationType,
) -> tuple[QualificationTest | None, list[str]]:
    """The type's test as the form edits it, or ``(None, problems)`` when it holds something the
    form cannot (then it is edited as XML). A type without a test gives ``(None, [])``."""
    if not qualification_type.test.strip():
        return None, []
    try:
        return parse_test(qualification_type.test, scoring_key(qualification_type)), []
    except UnrepresentableTest as exc:
        return None, exc.problems


def save_test(
    *,
    account: RequesterAccount,
    qualification_type: QualificationType,
    documents: TestDocuments,
    gateway: MTurkGateway,
    actor: Any,
) -> QualificationType:
    """Send the test with UpdateQualificationType (an audited call), then record what MTurk
    answered on the mirror row. The caller has checked :func:`test_problems`; MTurk's own refusal
    raises ``MTurkError`` (audited as failed) and leaves the row unchanged.

    Without an answer key the parameter is left out: MTurk then keeps no key for the new test and
    its requests wait for the lab."""
    with audited_mturk_call(
        action="qualification_type.update_test",
        account=account,
        actor=actor,
        target_ids={"qualification_type": qualification_type.qualification_type_id},
        parameters={
            "test_bytes": len(documents.question_form.encode("utf-8")),
            "answer_key_bytes": len(documents.answer_key.encode("utf-8")),
            "answer_key_kept_in_dashboard": documents.keep_key_here,
            "test_duration_seconds": documents.duration_seconds,
        },
    ):
        record = gateway.update_qualification_type(
            qualification_type_id=qualification_type.qualification_type_id,
            test=documents.question_form,
            answer_key=documents.sent_answer_key or None,
            test_duration_seconds=documents.duration_seconds,
        )
    qualification_type.test = record.test if record.test is not None else documents.question_form
    qualification_type.answer_key = (
        record.answer_key if record.answer_key is not None else documents.sent_answer_key
    )
    qualification_type.review_answer_key = documents.answer_key if documents.keep_key_here else ""
    qualification_type.test_duration_seconds = (
        record.test_duration_seconds
        if record.test_duration_seconds is not None
        else documents.duration_seconds
    )
    qualification_type.synced_at = timezone.now()
    qualification_type.save(
        update_fields=[
            "test",
            "answer_key",
            "review_answer_key",
            "test_duration_seconds",
            "synced_at",
        ]
    )
    return qualification_type
