"""Requirement presets: the QualificationRequirements a lab saves once and picks when it publishes.

A preset is stored as MTurk takes it (a list of QualificationRequirement dicts), built by the
helpers of :mod:`mturk.requesting`, so what is saved is what is sent. The builder's rows name a
*kind* rather than a type id: a system qualification, one of the account's own types, the lab's
soft-block exclusion or a study group's exclusion. The kind is resolved here, with the account's
environment (the Masters type id differs between the sandbox and production) and its lab
qualifications, and read back from a stored dict when a preset is edited.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from dashboard.enums import Environment
from dashboard.models import RequesterAccount
from mturk import requesting
from mturk.requesting import Comparator, InvalidRequirement
from people.models import StudyGroup
from people.services.blocks import exclusion_requirements
from publishing.models import RequirementPreset
from qualifications.enums import LabPurpose
from qualifications.models import QualificationType
from qualifications.services import DISPOSING

MASTERS = "masters"
NUMBER_APPROVED = "number_approved"
PERCENT_APPROVED = "percent_approved"
LOCALE = "locale"
ADULT = "adult"
SOFT_BLOCK = "soft_block"
# Followed by ":" and the group's pk / the type's MTurk id.
GROUP_PREFIX = "group:"
OWN_PREFIX = "own:"

SYSTEM_KINDS = (
    (MASTERS, "Masters"),
    (PERCENT_APPROVED, "Percent of assignments approved"),
    (NUMBER_APPROVED, "Number of HITs approved"),
    (LOCALE, "Location (countries, US states)"),
    (ADULT, "Adult content"),
)
_SYSTEM_TYPE_IDS = {
    NUMBER_APPROVED: requesting.NUMBER_HITS_APPROVED,
    PERCENT_APPROVED: requesting.PERCENT_ASSIGNMENTS_APPROVED,
    LOCALE: requesting.LOCALE,
    ADULT: requesting.ADULT,
}
# The comparator a row gets when none is chosen, where one reading is obvious.
_DEFAULT_COMPARATORS = {
    MASTERS: Comparator.EXISTS,
    ADULT: Comparator.EQUAL_TO,
    LOCALE: Comparator.IN,
    SOFT_BLOCK: Comparator.DOES_NOT_EXIST,
}


class PresetProblem(ValueError):
    """Why a preset cannot be saved: ``problems``, one message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Row:
    """One line of the builder, as a person fills it in."""

    kind: str
    comparator: str = ""
    values: str = ""
    actions_guarded: str = requesting.ActionsGuarded.ACCEPT


def uses_sandbox_masters(account: RequesterAccount) -> bool:
    """The emulator stands in for the sandbox (it knows both ids; the sandbox's is the safe one:
    a preset copied to a sandbox account then works there)."""
    return account.environment != Environment.LIVE


def own_types(account: RequesterAccount) -> QuerySet[QualificationType]:
    """The account's own qualification types a requirement may name. The lab's exclusion types
    are offered as their own kinds: publishing adds them itself, by purpose, not by id. A type
    being disposed of is gone for MTurk's purposes."""
    return QualificationType.objects.filter(account=account, lab_purpose=LabPurpose.NONE).exclude(
        status=DISPOSING
    )


def kind_choices(account: RequesterAccount) -> list[tuple[str, Any]]:
    """The builder's kinds for ``account``, grouped as a select shows them."""
    choices: list[tuple[str, Any]] = [("", "—"), ("System qualifications", list(SYSTEM_KINDS))]
    exclusions = [(SOFT_BLOCK, "The lab's exclusion list (soft-blocked workers)")]
    exclusions += [
        (f"{GROUP_PREFIX}{group.pk}", f"Not in study group “{group.name}”")
        for group in StudyGroup.objects.filter(account=account).order_by("name")
    ]
    choices.append(("Exclusions", exclusions))
    own = [
        (f"{OWN_PREFIX}{qtype.qualification_type_id}", qtype.name)
        for qtype in own_types(account).order_by("name")
    ]
    if own:
        choices.append(("The lab's qualification types", own))
    return choices


def _split(values: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", values.strip()) if part]


def _integers(values: str) -> list[int]:
    numbers = []
    for part in _split(values):
        if not re.fullmatch(r"[+-]?\d+", part):
            raise InvalidRequirement([f"“{part}” is not a whole number."])
        numbers.append(int(part))
    return numbers


def _exclusion(account: RequesterAccount, kind: str) -> str:
    """The type id of the soft-block or study-group exclusion ``kind`` names."""
    if kind == SOFT_BLOCK:
        wanted = exclusion_requirements(account)
        if not wanted:
            raise InvalidRequirement(
                ["The lab has no exclusion list yet: soft-block a worker first, then add it."]
            )
        type_id: str = wanted[0]["QualificationTypeId"]
        return type_id
    pk = kind.removeprefix(GROUP_PREFIX)
    group = (
        StudyGroup.objects.filter(account=account, pk=pk)
        .select_related("qualification_type")
        .first()
        if pk.isdigit()
        else None
    )
    if group is None:
        raise InvalidRequirement(["That study group does not exist."])
    if group.qualification_type is None:
        raise InvalidRequirement(
            [
                f"Study group “{group.name}” has no exclusion qualification yet: exclude its "
                "workers from the group's page first."
            ]
        )
    found = [
        item["QualificationTypeId"]
        for item in exclusion_requirements(account, study_groups=[group])
        if item["QualificationTypeId"] == group.qualification_type.qualification_type_id
    ]
    return found[0]


def build_requirement(account: RequesterAccount, row: Row) -> dict[str, Any]:
    """The QualificationRequirement ``row`` stands for; raises :class:`InvalidRequirement` with
    messages a person can act on."""
    kind, guarded = row.kind, row.actions_guarded or requesting.ActionsGuarded.ACCEPT
    known = (*_SYSTEM_TYPE_IDS, MASTERS, SOFT_BLOCK)
    if kind not in known and not kind.startswith((GROUP_PREFIX, OWN_PREFIX)):
        raise InvalidRequirement([f"“{kind}” is not a kind of requirement."])
    comparator = row.comparator or _DEFAULT_COMPARATORS.get(kind, "")
    if kind.startswith(GROUP_PREFIX):
        comparator = row.comparator or Comparator.DOES_NOT_EXIST
    if kind.startswith(OWN_PREFIX) and not row.comparator and not row.values.strip():
        comparator = Comparator.EXISTS
    if not comparator:
        raise InvalidRequirement(["Choose a comparator."])
    if kind == MASTERS:
        return requesting.requirement(
            requesting.masters_type_id(sandbox=uses_sandbox_masters(account)),
            comparator,
            _integers(row.values),
            actions_guarded=guarded,
        )
    if kind == LOCALE:
        return requesting.requirement(
            requesting.LOCALE, comparator, locales=_split(row.values), actions_guarded=guarded
        )
    if kind == ADULT:
        values = _integers(row.values) or [1]
        return requesting.requirement(requesting.ADULT, comparator, values, actions_guarded=guarded)
    if kind in _SYSTEM_TYPE_IDS:
        return requesting.requirement(
            _SYSTEM_TYPE_IDS[kind], comparator, _integers(row.values), actions_guarded=guarded
        )
    if kind == SOFT_BLOCK or kind.startswith(GROUP_PREFIX):
        return requesting.requirement(
            _exclusion(account, kind), comparator, _integers(row.values), actions_guarded=guarded
        )
    # What is left is one of the account's own types (the prefix was checked above).
    type_id = kind.removeprefix(OWN_PREFIX)
    if not own_types(account).filter(qualification_type_id=type_id).exists():
        raise InvalidRequirement(["That qualification type is not one of the lab's own."])
    return requesting.own(type_id, comparator, _integers(row.values), actions_guarded=guarded)


def build_requirements(account: RequesterAccount, rows: Sequence[Row]) -> list[dict[str, Any]]:
    """The list MTurk takes for ``rows``; raises :class:`PresetProblem` with one message per
    problem (each row's, then the list's: more than 10, a type twice)."""
    built, problems = [], []
    for number, row in enumerate(rows, start=1):
        try:
            built.append(build_requirement(account, row))
        except InvalidRequirement as exc:
            problems += [f"Requirement {number}: {problem}" for problem in exc.problems]
    if problems:
        raise PresetProblem(problems)
    problems = requesting.check_requirements(built)
    if problems:
        raise PresetProblem(problems)
    return built


def row_for(account: RequesterAccount, item: dict[str, Any]) -> Row:
    """The builder row that gives back ``item`` (a stored requirement), for editing a preset."""
    type_id = item.get("QualificationTypeId", "")
    comparator = item.get("Comparator", "")
    values = " ".join(str(value) for value in item.get("IntegerValues") or [])
    guarded = item.get("ActionsGuarded") or requesting.ActionsGuarded.ACCEPT
    if type_id in (requesting.MASTERS_SANDBOX, requesting.MASTERS_LIVE):
        return Row(MASTERS, comparator, values, guarded)
    if type_id == requesting.LOCALE:
        locales = " ".join(
            "-".join(part for part in (loc.get("Country"), loc.get("Subdivision")) if part)
            for loc in item.get("LocaleValues") or []
        )
        return Row(LOCALE, comparator, locales, guarded)
    for kind, system_id in _SYSTEM_TYPE_IDS.items():
        if type_id == system_id:
            return Row(kind, comparator, values, guarded)
    qtype = QualificationType.objects.filter(account=account, qualification_type_id=type_id).first()
    if qtype is not None and qtype.lab_purpose == LabPurpose.SOFT_BLOCK:
        return Row(SOFT_BLOCK, comparator, values, guarded)
    if qtype is not None and qtype.lab_purpose == LabPurpose.STUDY_GROUP:
        group = StudyGroup.objects.filter(account=account, qualification_type=qtype).first()
        if group is not None:
            return Row(f"{GROUP_PREFIX}{group.pk}", comparator, values, guarded)
    return Row(f"{OWN_PREFIX}{type_id}", comparator, values, guarded)


def describe(item: dict[str, Any]) -> str:
    """One line for a stored requirement, for the preset list."""
    type_id = item.get("QualificationTypeId", "")
    name = requesting.SYSTEM_TYPE_NAMES.get(type_id, type_id)
    values = [str(value) for value in item.get("IntegerValues") or []]
    values += [
        "-".join(part for part in (loc.get("Country"), loc.get("Subdivision")) if part)
        for loc in item.get("LocaleValues") or []
    ]
    return " ".join(part for part in (name, item.get("Comparator", ""), ", ".join(values)) if part)


def presets_for(account: RequesterAccount) -> QuerySet[RequirementPreset]:
    return RequirementPreset.objects.filter(account=account).order_by("name")


def save_preset(
    *,
    account: RequesterAccount,
    preset: RequirementPreset | None,
    name: str,
    rows: Sequence[Row],
    user: Any,
) -> RequirementPreset:
    """Create (``preset`` None) or update a preset from the builder's rows; raises
    :class:`PresetProblem` when a row is invalid or the name is taken."""
    requirements = build_requirements(account, rows)
    target = preset or RequirementPreset(account=account, created_by=user)
    target.name = name.strip()
    target.requirements = requirements
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise PresetProblem([f"A preset named “{target.name}” already exists."]) from None
    return target


def delete_preset(*, account: RequesterAccount, preset: RequirementPreset) -> None:
    RequirementPreset.objects.filter(account=account, pk=preset.pk).delete()
