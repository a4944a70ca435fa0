"""QualificationRequirement rules: validation at HIT creation and evaluation for a worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulator.protocol import invalid_param

LOCALE = "00000000000000000071"
PERCENT_APPROVED = "000000000000000000L0"
NUMBER_APPROVED = "00000000000000000040"
ADULT = "00000000000000000060"
MASTERS = ("2F1QJWKUDD8XADTFD2Q0G6UTO95ALH", "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6")

SYSTEM_TYPES = {
    LOCALE: ("Worker_Locale", "The Worker's location, as given in the Worker's mailing address."),
    PERCENT_APPROVED: (
        "Worker_PercentAssignmentsApproved",
        "The percentage of assignments the Worker has submitted that were approved.",
    ),
    NUMBER_APPROVED: (
        "Worker_NumberHITsApproved",
        "The total number of HITs submitted by a Worker that have been approved.",
    ),
    ADULT: ("Worker_Adult", "The Worker has agreed to work on potentially offensive content."),
    MASTERS[0]: ("Masters", "Workers who have demonstrated excellence (production)."),
    MASTERS[1]: ("Masters", "Workers who have demonstrated excellence (sandbox)."),
}

_SINGLE = ("LessThan", "LessThanOrEqualTo", "GreaterThan", "GreaterThanOrEqualTo")
MAX_REQUIREMENTS = 10


def validate_requirements(
    requirements: list[dict[str, Any]] | None, known_types: Callable[[str], bool]
) -> None:
    """Documented constraints: 0-10 requirements, values that fit the comparator, known types."""
    if not requirements:
        return
    if len(requirements) > MAX_REQUIREMENTS:
        raise invalid_param(
            f"A HIT may have at most {MAX_REQUIREMENTS} QualificationRequirements; got {len(requirements)}."
        )
    seen = set()
    for req in requirements:
        qtid = req["QualificationTypeId"]
        comparator = req["Comparator"]
        ints = req.get("IntegerValues") or []
        locales = req.get("LocaleValues") or []
        if qtid in seen:
            raise invalid_param(f"QualificationTypeId {qtid} appears in more than one requirement.")
        seen.add(qtid)
        if qtid not in SYSTEM_TYPES and not known_types(qtid):
            raise invalid_param(f"QualificationType {qtid} does not exist.")
        if ints and locales:
            raise invalid_param("A requirement takes IntegerValues or LocaleValues, not both.")
        if locales and qtid != LOCALE:
            raise invalid_param(
                "LocaleValues can only be used with the Worker_Locale qualification."
            )
        count = len(ints) + len(locales)
        if comparator in ("Exists", "DoesNotExist"):
            if count:
                raise invalid_param(f"Comparator {comparator} takes no values.")
        elif comparator in ("In", "NotIn"):
            if count < 1:
                raise invalid_param(f"Comparator {comparator} needs at least one value.")
            if len(ints) > 15 or len(locales) > 30:
                raise invalid_param(f"Too many values for comparator {comparator}.")
        else:
            if count != 1:
                raise invalid_param(f"Comparator {comparator} needs exactly one value.")
            if comparator in _SINGLE and locales:
                raise invalid_param(f"Comparator {comparator} cannot be used with LocaleValues.")
        if qtid == LOCALE and ints:
            raise invalid_param("The Worker_Locale qualification takes LocaleValues.")
        for locale in locales:
            if "Country" not in locale:
                raise invalid_param("LocaleValues need a Country.")


def locale_matches(locale: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    if not locale or locale.get("Country") != wanted.get("Country"):
        return False
    return "Subdivision" not in wanted or locale.get("Subdivision") == wanted["Subdivision"]


def meets(
    requirement: dict[str, Any], exists: bool, value: int | None, locale: dict[str, str] | None
) -> bool:
    comparator = requirement["Comparator"]
    if comparator == "Exists":
        return exists
    if comparator == "DoesNotExist":
        return not exists
    locales = requirement.get("LocaleValues") or []
    if locales:
        hit = any(locale_matches(locale, w) for w in locales)
        if comparator in ("EqualTo", "In"):
            return exists and hit
        return exists and not hit  # NotEqualTo / NotIn
    if not exists or value is None:
        # A worker without the qualification fails every comparison except DoesNotExist.
        return False
    ints = requirement.get("IntegerValues") or []
    target = ints[0] if ints else None
    if comparator == "EqualTo":
        return value == target
    if comparator == "NotEqualTo":
        return value != target
    if comparator == "In":
        return value in ints
    if comparator == "NotIn":
        return value not in ints
    if target is None:
        return False  # unreachable: validate_requirements gives these comparators one value
    if comparator == "LessThan":
        return value < target
    if comparator == "LessThanOrEqualTo":
        return value <= target
    if comparator == "GreaterThan":
        return value > target
    if comparator == "GreaterThanOrEqualTo":
        return value >= target
    return False
