"""Answer assembly: the QuestionFormAnswers XML one simulated worker submits for a question.

:func:`generate_answer` reads the question's fields (:mod:`emulator.answering.fields`), gives each a
value (:mod:`emulator.answering.values`) shaped as MTurk records it for that kind of question (see
:mod:`emulator.answering`) and writes the XML with :func:`emulator.answer_xml.answers_to_xml`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emulator.answer_xml import answers_to_xml
from emulator.answering.fields import (
    TASK_ANSWERS,
    FieldSpec,
    _analyse,
    _number_or_none,
    _params_key,
)
from emulator.answering.values import (
    _choose,
    _format_number,
    _random_number,
    _random_text,
    _wrong_text,
)


@dataclass
class _Context:
    rng: random.Random
    accuracy: float
    ground_truth: Mapping[str, Any]
    sloppy: bool

    def truth(self, name: str) -> tuple[bool, Any]:
        return (name in self.ground_truth, self.ground_truth.get(name))

    def skip_optional(self, spec: FieldSpec) -> bool:
        return self.sloppy and not spec.required and self.rng.random() < 0.3

    def text(self, spec: FieldSpec, *, long: bool = False) -> str:
        has, truth = self.truth(spec.name)
        if has:
            correct = "" if truth is None else str(truth)
            if self.rng.random() < self.accuracy:
                return correct
            return _wrong_text(correct, self.rng, spec.constraints)
        return _random_text(self.rng, spec.constraints, sloppy=self.sloppy, long=long)


def _question_form_answers(fields: list[FieldSpec], ctx: _Context) -> list[tuple[str, Any]]:
    answers: list[tuple[str, Any]] = []
    for spec in fields:
        if ctx.skip_optional(spec):
            continue  # unanswered optional question: no <Answer> at all
        if spec.kind == "freetext":
            answers.append((spec.name, ctx.text(spec)))
        else:
            has, truth = ctx.truth(spec.name)
            low = spec.constraints.get("min_selections", 1)
            high = spec.constraints.get("max_selections", 1)
            if not ctx.sloppy:
                low = max(low, 1)  # a careful worker answers even optional choices
            answers.append(
                (
                    spec.name,
                    _choose(
                        spec,
                        ctx.rng,
                        truth=truth,
                        has_truth=has,
                        accuracy=ctx.accuracy,
                        low=low,
                        high=high,
                    ),
                )
            )
    return answers


def _html_form_answers(
    fields: list[FieldSpec], ctx: _Context, assignment_id: str | None
) -> list[tuple[str, Any]]:
    answers: list[tuple[str, Any]] = []
    for spec in fields:
        if spec.kind == "hidden":
            if assignment_id is not None:
                answers.append((spec.name, assignment_id))
            continue
        if spec.kind in ("text", "textarea"):
            if ctx.skip_optional(spec):
                answers.append((spec.name, ""))  # empty inputs are still posted
            else:
                answers.append((spec.name, ctx.text(spec, long=spec.kind == "textarea")))
            continue
        has, truth = ctx.truth(spec.name)
        if spec.kind == "radio":
            if ctx.skip_optional(spec):
                continue  # nothing checked: the browser posts nothing
            low, high = 1, 1
        elif spec.kind == "checkbox":
            low, high = (1 if spec.required else 0), len(spec.options)
        else:  # select: a single select always posts its (first) option
            low, high = 1, (len(spec.options) if spec.multiple else 1)
        chosen = _choose(
            spec, ctx.rng, truth=truth, has_truth=has, accuracy=ctx.accuracy, low=low, high=high
        )
        if chosen:
            answers.append((spec.name, "|".join(chosen)))
    return answers


def _crowd_value(spec: FieldSpec, ctx: _Context, obj: dict[str, Any]) -> None:
    rng = ctx.rng
    has, truth = ctx.truth(spec.name)
    element = spec.element
    if element in ("crowd-input", "crowd-text-area"):
        if ctx.skip_optional(spec):
            obj[spec.name] = ""
        else:
            obj[spec.name] = ctx.text(spec, long=element == "crowd-text-area")
    elif element == "crowd-slider":
        if has and rng.random() < ctx.accuracy:
            value = _number_or_none(str(truth))
            obj[spec.name] = value if value is not None else truth
        elif has:
            obj[spec.name] = _number_or_none(
                _wrong_text(str(truth), rng, {**spec.constraints, "numeric": True})
            )
        else:
            obj[spec.name] = _random_number(rng, spec.constraints)
    elif element == "crowd-radio-group":
        values: dict[str, str] = spec.constraints["values"]
        truth_button = truth
        if not has:
            # Ground truth may also name the right button directly: {"<button name>": True}.
            marked = [button for button in spec.options if ctx.ground_truth.get(button) is True]
            if marked:
                has, truth_button = True, marked[0]
        elif truth not in values:  # truth given as the button's value
            truth_button = next((k for k, v in values.items() if v == str(truth)), truth)
        chosen = _choose(
            spec, rng, truth=truth_button, has_truth=has, accuracy=ctx.accuracy, low=1, high=1
        )
        for button in spec.options:
            obj[button] = {values[button]: button in chosen}
    elif element == "crowd-checkbox":
        value = spec.constraints.get("value", "on")
        if has:
            correct = str(truth).lower() in ("true", "1", "yes", "on", value.lower())
            checked = correct if rng.random() < ctx.accuracy else not correct
        else:
            checked = spec.required or rng.random() < 0.5
        obj[spec.name] = {value: checked}
    elif element == "crowd-classifier":
        chosen = _choose(
            spec, rng, truth=truth, has_truth=has, accuracy=ctx.accuracy, low=1, high=1
        )
        obj[spec.name] = {"label": chosen[0] if chosen else ""}
    elif element == "crowd-classifier-multi-select":
        chosen = _choose(
            spec,
            rng,
            truth=truth,
            has_truth=has,
            accuracy=ctx.accuracy,
            low=1,
            high=len(spec.options),
        )
        obj[spec.name] = {"labels": chosen}


def _crowd_answers(
    fields: list[FieldSpec], ctx: _Context, assignment_id: str | None
) -> list[tuple[str, Any]]:
    obj: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == "crowd":
            _crowd_value(spec, ctx, obj)
        elif spec.kind == "hidden":
            if assignment_id is not None:
                obj[spec.name] = assignment_id
        else:
            for name, value in _html_form_answers([spec], ctx, None):
                obj[name] = value
    return [(TASK_ANSWERS, json.dumps([obj], ensure_ascii=False))]


def _spec_answers(answer_spec: Mapping[str, Any] | None, ctx: _Context) -> list[tuple[str, Any]]:
    """Answers for pages the emulator cannot see (ExternalQuestion, layouts), from ``answer_spec``."""
    if not answer_spec:
        spec = FieldSpec("answer", "text", required=True)
        return [("answer", ctx.text(spec))]
    answers: list[tuple[str, Any]] = []
    for name, raw in answer_spec.items():
        rule = raw if isinstance(raw, Mapping) else {"text": raw}
        has, truth = ctx.truth(name)
        if "choices" in rule:
            options = [str(item) for item in rule["choices"]]
            multiple = bool(rule.get("multiple"))
            spec = FieldSpec(name, "select", options=options, multiple=multiple, required=True)
            chosen = _choose(
                spec,
                ctx.rng,
                truth=truth,
                has_truth=has,
                accuracy=ctx.accuracy,
                low=1,
                high=len(options) if multiple else 1,
            )
            answers.append((name, "|".join(chosen)))
        elif "number" in rule:
            bounds = rule["number"] or [0, 100]
            constraints = {"numeric": True, "min_value": bounds[0], "max_value": bounds[1]}
            spec = FieldSpec(name, "text", required=True, constraints=constraints)
            if not has:
                answers.append((name, _format_number(_random_number(ctx.rng, constraints))))
            else:
                answers.append((name, ctx.text(spec)))
        else:
            constraints = {
                key: rule[key] for key in ("min_length", "max_length", "regexes") if key in rule
            }
            if rule.get("regex"):
                constraints["regexes"] = [{"regex": rule["regex"], "flags": rule.get("flags", "")}]
            spec = FieldSpec(name, "text", required=True, constraints=constraints)
            expected = rule.get("text")
            if not has and isinstance(expected, str) and expected:
                # A fixed expected answer in the spec acts as the ground truth for this field.
                ctx = _Context(
                    ctx.rng, ctx.accuracy, {**ctx.ground_truth, name: expected}, ctx.sloppy
                )
            if ctx.skip_optional(FieldSpec(name, "text", required=bool(rule.get("required")))):
                answers.append((name, ""))
            else:
                answers.append((name, ctx.text(spec)))
    return answers


def generate_answer(
    question_xml: str,
    *,
    rng: random.Random,
    accuracy: float,
    ground_truth: Mapping[str, Any] | None = None,
    answer_spec: Mapping[str, Any] | None = None,
    layout_parameters: Mapping[str, str] | None = None,
    sloppy: bool = False,
    assignment_id: str | None = None,
) -> str:
    """Return the QuestionFormAnswers XML one simulated worker submits for this question.

    For every field with an entry in ``ground_truth`` the worker is right with probability
    ``accuracy`` (independently per field) and otherwise gives a plausible wrong answer (another
    option, a typo, a different number); without ground truth answers are random but valid under
    the field's constraints. ``sloppy`` gives shorter text and sometimes leaves optional fields
    empty. ExternalQuestion pages (and an empty ``question_xml``, for HITs created from a layout) are
    answered from ``answer_spec`` (field → ``{"choices": [...], "multiple": bool}``,
    ``{"number": [min, max]}``, ``{"text": "expected answer or empty"}`` / ``{"regex": ...}``), or
    with one free-text field ``answer`` when there is no spec. ``layout_parameters`` fill
    ``${name}`` placeholders in HTML before its form is read. Deterministic for a given rng state.
    Raises ``ValueError`` for an invalid question.
    """
    ctx = _Context(rng, min(1.0, max(0.0, float(accuracy))), ground_truth or {}, sloppy)
    if not question_xml or not question_xml.strip():
        return answers_to_xml(_spec_answers(answer_spec, ctx))
    kind, cached, crowd = _analyse(question_xml, _params_key(layout_parameters))
    fields = list(cached)  # read-only below: generation never mutates a FieldSpec
    if kind == "QuestionForm":
        answers = _question_form_answers(fields, ctx)
    elif kind == "HTMLQuestion":
        if crowd:
            answers = _crowd_answers(fields, ctx, assignment_id)
        elif fields:
            answers = _html_form_answers(fields, ctx, assignment_id)
        else:
            answers = _spec_answers(answer_spec, ctx)
    else:
        answers = _spec_answers(answer_spec, ctx)
    return answers_to_xml(answers)
