"""The boto 2 conveniences for boto3 users: a money type, QualificationRequirement helpers, layout
parameters and a QuestionForm builder.

boto 2's ``mturk`` module offered ``Price``, ``Qualifications`` with one class per system
requirement, ``LayoutParameters`` and ``QuestionForm``; boto3 takes plain dicts and strings and
leaves every rule to MTurk, which refuses a bad HIT only when it is created. These helpers build
the same dicts and strings and check MTurk's documented rules first (API Reference 2017-01-17,
"QualificationRequirement", "Qualification Type IDs", "Locale"), so a script or a form learns
what is wrong before anything is sent. Nothing here imports Django, and nothing calls MTurk::

    import boto3
    from mturk.requesting import Money, QuestionForm, masters, percent_assignments_approved

    form = QuestionForm(overview="Tell us about the picture.")
    form.free_text("caption", "Describe the picture in one sentence.")
    boto3.client("mturk").create_hit(
        Title="Caption a picture", Description="One sentence", Reward=Money("0.25").as_mturk(),
        AssignmentDurationInSeconds=600, LifetimeInSeconds=86400, Question=form.to_xml(),
        QualificationRequirements=[percent_assignments_approved(">=", 95), masters(sandbox=True)],
    )
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import total_ordering
from typing import Any

from mturk.qualification_test import (
    MAX_DOCUMENT_BYTES,
    FreeTextConstraints,
    Option,
    QualificationTest,
    QuestionKind,
    TestQuestion,
    build_question_form,
    validate_question_form,
)

__all__ = [
    "ADULT",
    "LOCALE",
    "MASTERS_LIVE",
    "MASTERS_SANDBOX",
    "MAX_REQUIREMENTS",
    "NUMBER_HITS_APPROVED",
    "PERCENT_ASSIGNMENTS_APPROVED",
    "QUESTION_IDENTIFIER",
    "SYSTEM_TYPE_NAMES",
    "ActionsGuarded",
    "Comparator",
    "InvalidRequirement",
    "Money",
    "QuestionForm",
    "adult",
    "check_requirements",
    "does_not_exist",
    "exists",
    "layout_parameters",
    "locale_in",
    "locale_not_in",
    "masters",
    "masters_type_id",
    "number_hits_approved",
    "own",
    "parse_locale",
    "percent_assignments_approved",
    "requirement",
    "requirement_problems",
]


# --- Money ----------------------------------------------------------------------------------------


@total_ordering
class Money:
    """An amount in US dollars with at most two decimals (MTurk's CurrencyAmount, e.g. "0.25").

    Built from ``str``, ``int`` or ``Decimal``. A ``float`` is refused: 0.1 + 0.2 is not 0.3 in
    binary, and a reward is no place to find out. More than two decimals is refused too rather
    than rounded, so a typo never changes what is paid."""

    __slots__ = ("amount",)
    amount: Decimal

    def __init__(self, value: str | int | Decimal | Money) -> None:
        if isinstance(value, Money):
            amount = value.amount
        elif isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise TypeError(
                f"Money takes a str, int or Decimal, not {type(value).__name__} "
                f"({value!r}); write Money('0.25'), floats cannot hold cents exactly"
            )
        else:
            try:
                amount = Decimal(value.strip() if isinstance(value, str) else value)
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a number") from None
        if not amount.is_finite():
            raise ValueError(f"{value!r} is not a number")
        if amount < 0:
            raise ValueError(f"an amount of money cannot be negative, got {value!r}")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(f"{value!r} has more than two decimals")
        object.__setattr__(self, "amount", amount.quantize(Decimal("0.01")))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Money is immutable")

    def as_mturk(self) -> str:
        """The CurrencyAmount string MTurk takes for Reward and BonusAmount."""
        return f"{self.amount:.2f}"

    def __str__(self) -> str:
        return f"${self.amount:.2f}"

    def __repr__(self) -> str:
        return f"Money('{self.amount:.2f}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and self.amount == other.amount

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.amount < other.amount

    def __hash__(self) -> int:
        return hash(self.amount)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.amount + other.amount)

    def __mul__(self, count: int) -> Money:
        if isinstance(count, bool) or not isinstance(count, int):
            return NotImplemented
        return Money(self.amount * count)

    __rmul__ = __mul__


# --- QualificationRequirements --------------------------------------------------------------------

# The system qualification types (API Reference, "Qualification Type IDs").
NUMBER_HITS_APPROVED = "00000000000000000040"
LOCALE = "00000000000000000071"
ADULT = "00000000000000000060"
PERCENT_ASSIGNMENTS_APPROVED = "000000000000000000L0"
# Masters is the one system type whose id differs between the sandbox and production.
MASTERS_SANDBOX = "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6"
MASTERS_LIVE = "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH"
SYSTEM_TYPE_NAMES = {
    NUMBER_HITS_APPROVED: "Number of HITs approved",
    LOCALE: "Location",
    ADULT: "Adult content",
    PERCENT_ASSIGNMENTS_APPROVED: "Percent of assignments approved",
    MASTERS_SANDBOX: "Masters (sandbox)",
    MASTERS_LIVE: "Masters",
}

MAX_REQUIREMENTS = 10
# Set comparisons: "up to 15" IntegerValues, "up to 30" LocaleValues.
MAX_INTEGER_VALUES = 15
MAX_LOCALE_VALUES = 30


class Comparator(StrEnum):
    LESS_THAN = "LessThan"
    LESS_THAN_OR_EQUAL_TO = "LessThanOrEqualTo"
    GREATER_THAN = "GreaterThan"
    GREATER_THAN_OR_EQUAL_TO = "GreaterThanOrEqualTo"
    EQUAL_TO = "EqualTo"
    NOT_EQUAL_TO = "NotEqualTo"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"
    IN = "In"
    NOT_IN = "NotIn"


class ActionsGuarded(StrEnum):
    """What a worker who fails the requirement may not do (MTurk's default is Accept)."""

    ACCEPT = "Accept"
    PREVIEW_AND_ACCEPT = "PreviewAndAccept"
    DISCOVER_PREVIEW_AND_ACCEPT = "DiscoverPreviewAndAccept"


# Scripts may write the comparators as operators, as boto 2's helpers read.
_SYMBOLS = {
    "<": Comparator.LESS_THAN,
    "<=": Comparator.LESS_THAN_OR_EQUAL_TO,
    ">": Comparator.GREATER_THAN,
    ">=": Comparator.GREATER_THAN_OR_EQUAL_TO,
    "==": Comparator.EQUAL_TO,
    "!=": Comparator.NOT_EQUAL_TO,
}
_NO_VALUE = (Comparator.EXISTS, Comparator.DOES_NOT_EXIST)
_SETS = (Comparator.IN, Comparator.NOT_IN)
_ORDERED = (
    Comparator.LESS_THAN,
    Comparator.LESS_THAN_OR_EQUAL_TO,
    Comparator.GREATER_THAN,
    Comparator.GREATER_THAN_OR_EQUAL_TO,
)
# "LocaleValue can only be used with the EqualTo, NotEqualTo, In, and NotIn comparators."
_LOCALE_COMPARATORS = (Comparator.EQUAL_TO, Comparator.NOT_EQUAL_TO, *_SETS)
# Per system type: the comparators that mean something, and the integer range of its values.
_SYSTEM_RULES: dict[str, tuple[tuple[Comparator, ...], int, int]] = {
    PERCENT_ASSIGNMENTS_APPROVED: (
        (*_ORDERED, Comparator.EQUAL_TO, Comparator.NOT_EQUAL_TO, *_SETS),
        0,
        100,
    ),
    NUMBER_HITS_APPROVED: (
        (*_ORDERED, Comparator.EQUAL_TO, Comparator.NOT_EQUAL_TO, *_SETS),
        0,
        2**31 - 1,
    ),
    # Worker_Adult is a boolean: 1 required, 0 not.
    ADULT: ((Comparator.EQUAL_TO, Comparator.NOT_EQUAL_TO), 0, 1),
    # "Set the comparator parameter to "Exists" to require that Workers have this Qualification."
    MASTERS_SANDBOX: (_NO_VALUE, 0, 0),
    MASTERS_LIVE: (_NO_VALUE, 0, 0),
}

# ISO 3166-1 alpha-2, the officially assigned codes.
_COUNTRIES = frozenset(
    [
        "AD",
        "AE",
        "AF",
        "AG",
        "AI",
        "AL",
        "AM",
        "AO",
        "AQ",
        "AR",
        "AS",
        "AT",
        "AU",
        "AW",
        "AX",
        "AZ",
        "BA",
        "BB",
        "BD",
        "BE",
        "BF",
        "BG",
        "BH",
        "BI",
        "BJ",
        "BL",
        "BM",
        "BN",
        "BO",
        "BQ",
        "BR",
        "BS",
        "BT",
        "BV",
        "BW",
        "BY",
        "BZ",
        "CA",
        "CC",
        "CD",
        "CF",
        "CG",
        "CH",
        "CI",
        "CK",
        "CL",
        "CM",
        "CN",
        "CO",
        "CR",
        "CU",
        "CV",
        "CW",
        "CX",
        "CY",
        "CZ",
        "DE",
        "DJ",
        "DK",
        "DM",
        "DO",
        "DZ",
        "EC",
        "EE",
        "EG",
        "EH",
        "ER",
        "ES",
        "ET",
        "FI",
        "FJ",
        "FK",
        "FM",
        "FO",
        "FR",
        "GA",
        "GB",
        "GD",
        "GE",
        "GF",
        "GG",
        "GH",
        "GI",
        "GL",
        "GM",
        "GN",
        "GP",
        "GQ",
        "GR",
        "GS",
        "GT",
        "GU",
        "GW",
        "GY",
        "HK",
        "HM",
        "HN",
        "HR",
        "HT",
        "HU",
        "ID",
        "IE",
        "IL",
        "IM",
        "IN",
        "IO",
        "IQ",
        "IR",
        "IS",
        "IT",
        "JE",
        "JM",
        "JO",
        "JP",
        "KE",
        "KG",
        "KH",
        "KI",
        "KM",
        "KN",
        "KP",
        "KR",
        "KW",
        "KY",
        "KZ",
        "LA",
        "LB",
        "LC",
        "LI",
        "LK",
        "LR",
        "LS",
        "LT",
        "LU",
        "LV",
        "LY",
        "MA",
        "MC",
        "MD",
        "ME",
        "MF",
        "MG",
        "MH",
        "MK",
        "ML",
        "MM",
        "MN",
        "MO",
        "MP",
        "MQ",
        "MR",
        "MS",
        "MT",
        "MU",
        "MV",
        "MW",
        "MX",
        "MY",
        "MZ",
        "NA",
        "NC",
        "NE",
        "NF",
        "NG",
        "NI",
        "NL",
        "NO",
        "NP",
        "NR",
        "NU",
        "NZ",
        "OM",
        "PA",
        "PE",
        "PF",
        "PG",
        "PH",
        "PK",
        "PL",
        "PM",
        "PN",
        "PR",
        "PS",
        "PT",
        "PW",
        "PY",
        "QA",
        "RE",
        "RO",
        "RS",
        "RU",
        "RW",
        "SA",
        "SB",
        "SC",
        "SD",
        "SE",
        "SG",
        "SH",
        "SI",
        "SJ",
        "SK",
        "SL",
        "SM",
        "SN",
        "SO",
        "SR",
        "SS",
        "ST",
        "SV",
        "SX",
        "SY",
        "SZ",
        "TC",
        "TD",
        "TF",
        "TG",
        "TH",
        "TJ",
        "TK",
        "TL",
        "TM",
        "TN",
        "TO",
        "TR",
        "TT",
        "TV",
        "TW",
        "TZ",
        "UA",
        "UG",
        "UM",
        "US",
        "UY",
        "UZ",
        "VA",
        "VC",
        "VE",
        "VG",
        "VI",
        "VN",
        "VU",
        "WF",
        "WS",
        "YE",
        "YT",
        "ZA",
        "ZM",
        "ZW",
    ]
)
# "Subdivisions or states are only available for the United States of America": its ISO 3166-2
# codes (the states, the District of Columbia and the outlying areas).
_US_SUBDIVISIONS = frozenset(
    [
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "AS",
        "GU",
        "MP",
        "PR",
        "UM",
        "VI",
    ]
)


class InvalidRequirement(ValueError):
    """A requirement MTurk would refuse: ``problems`` says why, one message each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _comparator(value: Comparator | str) -> Comparator:
    if value in _SYMBOLS:
        return _SYMBOLS[value]
    try:
        return Comparator(value)
    except ValueError:
        choices = ", ".join([*_SYMBOLS, *Comparator])
        raise InvalidRequirement([f"“{value}” is not a comparator ({choices})."]) from None


def parse_locale(value: str | tuple[str, str] | Mapping[str, str]) -> dict[str, str]:
    """A LocaleValue from "US", "US-CA", ("US", "CA") or {"Country": "US", "Subdivision": "CA"};
    the codes are checked against ISO 3166 (subdivisions exist only for the US at MTurk)."""
    if isinstance(value, Mapping):
        country, subdivision = value.get("Country", ""), value.get("Subdivision", "")
    elif isinstance(value, tuple):
        country, subdivision = value
    else:
        country, _, subdivision = value.strip().partition("-")
    country, subdivision = str(country).strip().upper(), str(subdivision or "").strip().upper()
    if country not in _COUNTRIES:
        raise InvalidRequirement([f"“{country}” is not an ISO 3166 country code (e.g. US, DE)."])
    if not subdivision:
        return {"Country": country}
    if country != "US":
        raise InvalidRequirement(
            [f"{country}-{subdivision}: MTurk knows subdivisions only for the United States."]
        )
    if subdivision not in _US_SUBDIVISIONS:
        raise InvalidRequirement([f"“US-{subdivision}” is not an ISO 3166-2 US subdivision."])
    return {"Country": country, "Subdivision": subdivision}


def _integers(values: Iterable[object]) -> list[int]:
    numbers = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidRequirement([f"{value!r} is not a whole number."])
        try:
            numbers.append(int(value))
        except ValueError:
            raise InvalidRequirement([f"“{value}” is not a whole number."]) from None
    return numbers


def requirement_problems(item: Mapping[str, Any]) -> list[str]:
    """Why MTurk would refuse this QualificationRequirement dict; ``[]`` if it would not."""
    type_id = item.get("QualificationTypeId")
    if not isinstance(type_id, str) or not type_id.strip():
        return ["A requirement needs a QualificationTypeId."]
    name = SYSTEM_TYPE_NAMES.get(type_id, type_id)
    raw = item.get("Comparator")
    if raw not in set(Comparator):
        return [f"{name}: “{raw}” is not a comparator."]
    comparator = Comparator(raw)
    problems = []
    guarded = item.get("ActionsGuarded")
    if guarded is not None and guarded not in set(ActionsGuarded):
        problems.append(
            f"{name}: ActionsGuarded must be one of {', '.join(ActionsGuarded)}, not “{guarded}”."
        )
    ints, locales = item.get("IntegerValues") or [], item.get("LocaleValues") or []
    if ints and locales:
        problems.append(f"{name}: give integer values or locales, not both.")
    if type_id == LOCALE:
        if ints:
            problems.append(f"{name}: the location takes countries, not numbers.")
        if comparator not in _LOCALE_COMPARATORS:
            problems.append(
                f"{name}: the location is compared with "
                f"{', '.join(_LOCALE_COMPARATORS)}, not {comparator}."
            )
        for locale in locales:
            try:
                parse_locale(locale)
            except InvalidRequirement as exc:
                problems += [f"{name}: {problem}" for problem in exc.problems]
    elif locales:
        problems.append(f"{name}: only the location takes countries.")
    values = locales if type_id == LOCALE else ints
    count = len(values)
    if comparator in _NO_VALUE:
        if count:
            problems.append(f"{name}: {comparator} takes no value.")
    elif comparator in _SETS:
        limit = MAX_LOCALE_VALUES if type_id == LOCALE else MAX_INTEGER_VALUES
        if not count:
            problems.append(f"{name}: {comparator} needs at least one value.")
        elif count > limit:
            problems.append(f"{name}: {comparator} takes at most {limit} values, got {count}.")
    elif count != 1:
        problems.append(f"{name}: {comparator} needs exactly one value, got {count}.")
    if type_id in _SYSTEM_RULES:
        allowed, low, high = _SYSTEM_RULES[type_id]
        if comparator not in allowed:
            problems.append(f"{name} is compared with {', '.join(allowed)}, not {comparator}.")
        for value in ints:
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name}: {value!r} is not a whole number.")
            elif not low <= value <= high:
                problems.append(f"{name}: {value} is outside {low} to {high}.")
    else:
        for value in ints:
            if isinstance(value, bool) or not isinstance(value, int):
                problems.append(f"{name}: {value!r} is not a whole number.")
    return problems


def requirement(
    type_id: str,
    comparator: Comparator | str,
    values: Iterable[int | str] = (),
    *,
    locales: Iterable[str | tuple[str, str] | Mapping[str, str]] = (),
    actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT,
) -> dict[str, Any]:
    """A QualificationRequirement dict as boto3 takes it; raises :class:`InvalidRequirement`
    when MTurk would refuse it. ``comparator`` is a :class:`Comparator` name or an operator
    (``">="``)."""
    parsed: list[dict[str, str]] = []
    problems: list[str] = []
    for locale in locales:
        try:
            parsed.append(parse_locale(locale))
        except InvalidRequirement as exc:
            problems += exc.problems
    if problems:
        raise InvalidRequirement(problems)
    item: dict[str, Any] = {
        "QualificationTypeId": type_id,
        "Comparator": str(_comparator(comparator)),
    }
    integers = _integers(values)
    if integers:
        item["IntegerValues"] = integers
    if parsed:
        item["LocaleValues"] = parsed
    item["ActionsGuarded"] = str(actions_guarded)
    problems = requirement_problems(item)
    if problems:
        raise InvalidRequirement(problems)
    return item


def percent_assignments_approved(
    comparator: Comparator | str,
    value: int,
    *,
    actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT,
) -> dict[str, Any]:
    """Worker_PercentAssignmentsApproved (0-100). MTurk counts 100% for workers with fewer than
    100 submissions: pair it with :func:`number_hits_approved`."""
    return requirement(
        PERCENT_ASSIGNMENTS_APPROVED, comparator, [value], actions_guarded=actions_guarded
    )


def number_hits_approved(
    comparator: Comparator | str,
    value: int,
    *,
    actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT,
) -> dict[str, Any]:
    """Worker_NumberHITsApproved: how many of the worker's HITs were approved."""
    return requirement(NUMBER_HITS_APPROVED, comparator, [value], actions_guarded=actions_guarded)


def locale_in(
    locales: Iterable[str | tuple[str, str] | Mapping[str, str]],
    *,
    actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT,
) -> dict[str, Any]:
    """Workers living in one of ``locales`` ("US", "US-CA", "DE"...)."""
    return requirement(LOCALE, Comparator.IN, locales=locales, actions_guarded=actions_guarded)


def locale_not_in(
    locales: Iterable[str | tuple[str, str] | Mapping[str, str]],
    *,
    actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT,
) -> dict[str, Any]:
    """Workers living in none of ``locales``."""
    return requirement(LOCALE, Comparator.NOT_IN, locales=locales, actions_guarded=actions_guarded)


def adult(*, actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT) -> dict[str, Any]:
    """Workers who agreed to potentially offensive content (Worker_Adult equal to 1)."""
    return requirement(ADULT, Comparator.EQUAL_TO, [1], actions_guarded=actions_guarded)


def masters_type_id(*, sandbox: bool) -> str:
    return MASTERS_SANDBOX if sandbox else MASTERS_LIVE


def masters(
    *, sandbox: bool, actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT
) -> dict[str, Any]:
    """Masters only. The type id differs between the sandbox and production, and MTurk refuses
    the other one, so the environment must be said."""
    return requirement(
        masters_type_id(sandbox=sandbox), Comparator.EXISTS, actions_guarded=actions_guarded
    )


def own(
    type_id: str,
    comparator: Comparator | str,
    values: Iterable[int | str] = (),
    *,
    actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT,
) -> dict[str, Any]:
    """A requirement on one of the requester's own qualification types (integer scores)."""
    return requirement(type_id, comparator, values, actions_guarded=actions_guarded)


def exists(
    type_id: str, *, actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT
) -> dict[str, Any]:
    return requirement(type_id, Comparator.EXISTS, actions_guarded=actions_guarded)


def does_not_exist(
    type_id: str, *, actions_guarded: ActionsGuarded | str = ActionsGuarded.ACCEPT
) -> dict[str, Any]:
    """Workers without the type: how exclusions (blocks, earlier studies) keep workers out."""
    return requirement(type_id, Comparator.DOES_NOT_EXIST, actions_guarded=actions_guarded)


def check_requirements(requirements: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why MTurk would refuse these QualificationRequirements for one HIT; ``[]`` if it would
    not: at most 10, each type once, each one valid."""
    problems = []
    if len(requirements) > MAX_REQUIREMENTS:
        problems.append(
            f"A HIT takes at most {MAX_REQUIREMENTS} requirements; there are {len(requirements)}."
        )
    seen: set[str] = set()
    for number, item in enumerate(requirements, start=1):
        type_id = item.get("QualificationTypeId")
        if isinstance(type_id, str) and type_id in seen:
            name = SYSTEM_TYPE_NAMES.get(type_id, type_id)
            problems.append(f"Requirement {number}: {name} is already required above.")
        if isinstance(type_id, str):
            seen.add(type_id)
        problems += [f"Requirement {number}: {p}" for p in requirement_problems(item)]
    return problems


# --- HITLayoutParameters --------------------------------------------------------------------------

_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def layout_parameters(
    mapping: Mapping[str, str | int | Decimal | Money],
) -> list[dict[str, str]]:
    """HITLayoutParameters (``[{"Name": .., "Value": ..}]``) from ``{name: value}``. A name is
    the ``${name}`` placeholder of the layout; a value is text (ints, Decimals and Money are
    written out; a float is refused for the reason Money refuses it)."""
    problems, items = [], []
    for name, value in mapping.items():
        if not isinstance(name, str) or not _PARAMETER_NAME.fullmatch(name):
            problems.append(
                f"Layout parameter name {name!r} must be letters, digits, '_', '-' or '.'."
            )
            continue
        if isinstance(value, Money):
            text = value.as_mturk()
        elif isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            problems.append(
                f"Layout parameter {name}: {type(value).__name__} is not text; pass a str."
            )
            continue
        else:
            text = str(value)
        items.append({"Name": name, "Value": text})
    if problems:
        raise ValueError("; ".join(problems))
    return items


# --- QuestionForm ---------------------------------------------------------------------------------


# MTurk types a QuestionIdentifier as any string; ours are what a results column and a form
# field can be named after without quoting, as for layout parameters.
QUESTION_IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SINGLE_STYLES = ("radiobutton", "dropdown")
_MULTIPLE_STYLES = ("checkbox",)


@dataclass
class QuestionForm:
    """A QuestionForm document for a HIT: an overview, then questions answered in free text or
    by picking among choices. It is the qualification test editor's data model
    (:mod:`mturk.qualification_test`) without the answer key, so both write the same XML::

        form = QuestionForm(overview="Read the sentence, then answer.")
        form.choice("sentiment", "Is it positive?", [("yes", "Yes"), ("no", "No")])
        form.free_text("why", "Why?", required=False)
        xml = form.to_xml()
    """

    overview: str = ""

    def __post_init__(self) -> None:
        self._questions: list[TestQuestion] = []

    def free_text(
        self,
        identifier: str,
        text: str,
        *,
        required: bool = True,
        display_name: str = "",
        min_length: int | None = None,
        max_length: int | None = None,
        regex: str = "",
        regex_error: str = "",
        lines: int | None = None,
    ) -> QuestionForm:
        """A question answered in a text field, optionally constrained as MTurk's FreeTextAnswer
        allows: a length range, a (JavaScript) regular expression with the error text workers
        see when it does not match, and a suggested number of lines."""
        problems = []
        if min_length is not None and min_length < 0:
            problems.append("the minimum length must be 0 or more")
        if max_length is not None and max_length < 1:
            problems.append("the maximum length must be 1 or more")
        if min_length is not None and max_length is not None and min_length > max_length:
            problems.append("the minimum length is above the maximum length")
        if regex_error and not regex:
            problems.append("an error text needs a regular expression")
        if lines is not None and lines < 1:
            problems.append("the number of lines must be 1 or more")
        if problems:
            raise ValueError(f"Question {identifier}: " + "; ".join(problems) + ".")
        constraints = FreeTextConstraints(min_length, max_length, regex, regex_error, lines)
        self._add(
            TestQuestion(
                identifier,
                text,
                QuestionKind.FREE_TEXT,
                (),
                display_name,
                required,
                constraints=None if constraints == FreeTextConstraints() else constraints,
            )
        )
        return self

    def choice(
        self,
        identifier: str,
        text: str,
        choices: Iterable[tuple[str, str]],
        *,
        multiple: bool = False,
        required: bool = True,
        display_name: str = "",
        style: str = "",
        min_selections: int | None = None,
        max_selections: int | None = None,
    ) -> QuestionForm:
        """A question answered by picking one choice (radio buttons, or ``style="dropdown"``),
        or several (``multiple``: checkboxes; by default at least one if required, at most all,
        else ``min_selections`` to ``max_selections``). ``choices`` are (identifier, label)
        pairs."""
        options = tuple(Option(str(sid), str(label)) for sid, label in choices)
        if not options:
            raise ValueError(f"Question {identifier}: a choice question needs choices.")
        ids = [option.identifier for option in options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"Question {identifier}: two choices share an identifier.")
        bad = [sid for sid in ids if not QUESTION_IDENTIFIER.fullmatch(sid)]
        if bad:
            raise ValueError(
                f"Question {identifier}: a choice identifier is letters, digits, '_', '-' or "
                f"'.' (at most 64), not “{bad[0]}”."
            )
        styles = _MULTIPLE_STYLES if multiple else _SINGLE_STYLES
        if style and style not in styles:
            raise ValueError(
                f"Question {identifier}: the {style} style is for "
                + ("one choice." if multiple else "several choices.")
            )
        if not multiple and (min_selections is not None or max_selections is not None):
            raise ValueError(
                f"Question {identifier}: selection counts are for questions with several choices."
            )
        low = (1 if required else 0) if min_selections is None else min_selections
        high = len(options) if max_selections is None else max_selections
        if multiple and (not 0 <= low <= high <= len(options) or high < 1):
            raise ValueError(
                f"Question {identifier}: the selection counts must be 0 ≤ minimum ≤ maximum ≤ "
                f"{len(options)} (the choices), and the maximum at least 1."
            )
        kind = QuestionKind.MULTIPLE if multiple else QuestionKind.SINGLE
        self._add(
            TestQuestion(
                identifier,
                text,
                kind,
                options,
                display_name,
                required,
                style=style,
                min_selections=min_selections,
                max_selections=max_selections,
            )
        )
        return self

    def _add(self, question: TestQuestion) -> None:
        if not question.identifier.strip():
            raise ValueError("A question needs an identifier.")
        if not QUESTION_IDENTIFIER.fullmatch(question.identifier):
            raise ValueError(
                f"The identifier “{question.identifier}” must be letters, digits, '_', '-' or '.' "
                "(at most 64): it names the answer's column in the results."
            )
        if any(q.identifier == question.identifier for q in self._questions):
            raise ValueError(f"The identifier “{question.identifier}” is used by another question.")
        if not question.text.strip():
            raise ValueError(f"Question {question.identifier} has no text.")
        self._questions.append(question)

    @property
    def questions(self) -> tuple[TestQuestion, ...]:
        return tuple(self._questions)

    def to_xml(self) -> str:
        """The document for CreateHIT's Question; raises ValueError when MTurk would refuse it
        (no question, over 64 KB...)."""
        if not self._questions:
            raise ValueError("A QuestionForm needs at least one question.")
        xml = build_question_form(QualificationTest(tuple(self._questions), self.overview))
        problems = validate_question_form(xml)
        if len(xml.encode("utf-8")) > MAX_DOCUMENT_BYTES and not problems:
            problems = [f"The QuestionForm is over {MAX_DOCUMENT_BYTES} bytes."]
        if problems:
            raise ValueError("; ".join(problems))
        return xml
