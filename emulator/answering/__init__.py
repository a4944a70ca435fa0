"""What the emulator's simulated workers answer.

Three jobs, in three modules, all pure functions of their inputs (randomness comes only from the
``rng`` passed in, so a seeded ``random.Random`` gives the same answers every run):

- field discovery (:mod:`.fields`): :func:`validate_question` checks a ``Question`` parameter the way
  CreateHIT would (well-formed XML, a known root element in its exact namespace, the required
  children); :func:`describe_fields` lists the fields a worker would fill in, for QuestionForm and
  HTMLQuestion.
- value generation (:mod:`.values`): random but valid values for a field, and plausible wrong ones.
- answer assembly (:mod:`.assemble`): :func:`generate_answer` produces the QuestionFormAnswers XML a
  worker submits, optionally steered by ground truth and an accuracy rate.

The XML itself is written and read by :mod:`emulator.answer_xml` (``answers_to_xml``,
``read_answers``), the one answer-XML module.

Answer shapes (what MTurk records, per the API Reference "The Answer Data" and "QuestionFormAnswers"):

- QuestionForm: one ``<Answer>`` per answered question; ``<FreeText>`` for a FreeTextAnswer, one
  ``<SelectionIdentifier>`` per chosen option for a SelectionAnswer (zero elements when nothing was
  chosen). Unanswered optional questions have no ``<Answer>`` at all.
- HTMLQuestion / ExternalQuestion with a plain ``<form>``: MTurk records the posted form fields "as if
  each field were a free-text answer": one ``<Answer>`` per field name with ``<FreeText>``. Browsers
  post only checked checkboxes and radios, so an unchecked checkbox group or an unselected radio group
  has no ``<Answer>``; several values posted under one name (a checkbox group, a ``<select
  multiple>``) are joined with ``|`` (what the Requester website's results show for such fields).
  Empty text inputs are posted, so they appear with an empty ``<FreeText/>``. The reserved names
  ``hitId``, ``workerId`` and ``turkSubmitTo`` never appear; ``assignmentId`` (the hidden input the
  docs tell requesters to include) appears only when :func:`generate_answer` is told the assignment
  id, because its value is filled in by the page's script at run time.
- ``<crowd-form>`` (Crowd HTML Elements): ONE ``<Answer>`` with QuestionIdentifier ``taskAnswers``
  whose FreeText is a JSON array holding one object that maps element names to values, following the
  Crowd HTML Elements reference: ``crowd-input`` / ``crowd-text-area`` → string, ``crowd-slider`` →
  number, ``crowd-radio-button`` → ``{"<name>": {"<value>": true|false}}`` for every button of the
  group (exactly one true), ``crowd-checkbox`` → ``{"<name>": {"<value or 'on'>": true|false}}``,
  ``crowd-classifier`` → ``{"<name>": {"label": "<category>"}}``,
  ``crowd-classifier-multi-select`` → ``{"<name>": {"labels": [...]}}``. Plain inputs inside a
  crowd-form are included as strings (an approximation: their exact serialisation is undocumented).

The XML starts with ``<?xml version="1.0" encoding="ASCII"?>`` like MTurk's own example, so every
non-ASCII character is written as a character reference.
"""

from __future__ import annotations

from emulator.answering.assemble import generate_answer
from emulator.answering.fields import (
    EXTERNAL_QUESTION_NS,
    HTML_QUESTION_NS,
    MAX_QUESTION_LENGTH,
    QUESTION_FORM_NS,
    QUESTION_FORM_NS_LEGACY,
    TASK_ANSWERS,
    FieldSpec,
    describe_fields,
    validate_question,
)

__all__ = [
    "EXTERNAL_QUESTION_NS",
    "HTML_QUESTION_NS",
    "MAX_QUESTION_LENGTH",
    "QUESTION_FORM_NS",
    "QUESTION_FORM_NS_LEGACY",
    "TASK_ANSWERS",
    "FieldSpec",
    "describe_fields",
    "generate_answer",
    "validate_question",
]
