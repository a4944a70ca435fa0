"""The boto 2 conveniences for boto3 users (mturk.requesting): money, requirements, layout
parameters, the QuestionForm builder; and a HIT created with them at the emulator."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mturk.qualification_test import parse_test, validate_question_form
from mturk.requesting import (
    ADULT,
    LOCALE,
    MASTERS_LIVE,
    MASTERS_SANDBOX,
    NUMBER_HITS_APPROVED,
    PERCENT_ASSIGNMENTS_APPROVED,
    ActionsGuarded,
    InvalidRequirement,
    Money,
    QuestionForm,
    adult,
    check_requirements,
    does_not_exist,
    exists,
    layout_parameters,
    locale_in,
    locale_not_in,
    masters,
    number_hits_approved,
    own,
    percent_assignments_approved,
    requirement,
)

# --- Money ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.25", "0.25"), (1, "1.00"), (Decimal("0.5"), "0.50"), (" 2.10 ", "2.10"), ("0", "0.00")],
)
def test_money_from_str_int_and_decimal(value, expected):
    assert Money(value).as_mturk() == expected


def test_money_refuses_floats_with_a_clear_type_error():
    with pytest.raises(TypeError, match="float.*Money\\('0.25'\\)"):
        Money(0.25)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "message"),
    [("0.001", "more than two decimals"), ("-1", "negative"), ("abc", "not a number")],
)
def test_money_refuses_bad_amounts(value, message):
    with pytest.raises(ValueError, match=message):
        Money(value)


def test_money_arithmetic_and_comparison():
    assert Money("0.25") * 3 == Money("0.75")
    assert Money("0.10") + Money("0.20") == Money("0.30")
    assert Money("0.10") < Money("0.11")
    assert str(Money(2)) == "$2.00"


# --- Requirements ---------------------------------------------------------------------------------


def test_system_requirement_helpers_build_mturks_dicts():
    assert percent_assignments_approved(">=", 95) == {
        "QualificationTypeId": PERCENT_ASSIGNMENTS_APPROVED,
        "Comparator": "GreaterThanOrEqualTo",
        "IntegerValues": [95],
        "ActionsGuarded": "Accept",
    }
    assert number_hits_approved(
        "GreaterThan", 1000, actions_guarded=ActionsGuarded.DISCOVER_PREVIEW_AND_ACCEPT
    ) == {
        "QualificationTypeId": NUMBER_HITS_APPROVED,
        "Comparator": "GreaterThan",
        "IntegerValues": [1000],
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }
    assert adult() == {
        "QualificationTypeId": ADULT,
        "Comparator": "EqualTo",
        "IntegerValues": [1],
        "ActionsGuarded": "Accept",
    }


def test_locale_helpers_take_countries_and_us_subdivisions():
    assert locale_in(["US-CA", "de", ("US", "NY")], actions_guarded="PreviewAndAccept") == {
        "QualificationTypeId": LOCALE,
        "Comparator": "In",
        "LocaleValues": [
            {"Country": "US", "Subdivision": "CA"},
            {"Country": "DE"},
            {"Country": "US", "Subdivision": "NY"},
        ],
        "ActionsGuarded": "PreviewAndAccept",
    }
    assert locale_not_in(["IN"])["Comparator"] == "NotIn"


@pytest.mark.parametrize(
    ("locales", "message"),
    [
        (["XX"], "not an ISO 3166 country code"),
        (["DE-BY"], "only for the United States"),
        (["US-ZZ"], "not an ISO 3166-2 US subdivision"),
        ([], "needs at least one value"),
        (
            [
                f"US-{s}"
                for s in [
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
                ]
                * 2
            ],
            "30",
        ),
    ],
)
def test_locale_refuses_bad_codes(locales, message):
    with pytest.raises(InvalidRequirement, match=message):
        locale_in(locales)


def test_masters_id_depends_on_the_environment():
    assert masters(sandbox=True)["QualificationTypeId"] == MASTERS_SANDBOX
    assert masters(sandbox=False)["QualificationTypeId"] == MASTERS_LIVE
    assert masters(sandbox=True)["Comparator"] == "Exists"
    assert "IntegerValues" not in masters(sandbox=False)


def test_own_exists_and_does_not_exist():
    assert own("3OWNTYPE", "In", [1, "2"]) == {
        "QualificationTypeId": "3OWNTYPE",
        "Comparator": "In",
        "IntegerValues": [1, 2],
        "ActionsGuarded": "Accept",
    }
    assert exists("3OWNTYPE")["Comparator"] == "Exists"
    blocked = does_not_exist("3BLOCK", actions_guarded="DiscoverPreviewAndAccept")
    assert blocked == {
        "QualificationTypeId": "3BLOCK",
        "Comparator": "DoesNotExist",
        "ActionsGuarded": "DiscoverPreviewAndAccept",
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: percent_assignments_approved(">=", 101), "outside 0 to 100"),
        (lambda: percent_assignments_approved("Exists", 95), "takes no value"),
        (lambda: number_hits_approved("~", 5), "is not a comparator"),
        (lambda: own("3T", "GreaterThan", [1, 2]), "exactly one value"),
        (lambda: own("3T", "In", range(16)), "at most 15"),
        (lambda: own("3T", "EqualTo", ["x"]), "not a whole number"),
        (lambda: requirement(MASTERS_LIVE, "GreaterThan", [1]), "compared with Exists"),
        (lambda: requirement(LOCALE, "GreaterThan", locales=["US"]), "compared with EqualTo"),
        (lambda: requirement(ADULT, "EqualTo", [2]), "outside 0 to 1"),
        (lambda: exists("3T", actions_guarded="Everything"), "ActionsGuarded must be"),
    ],
)
def test_requirements_mturk_would_refuse_are_refused_with_a_message(build, message):
    with pytest.raises(InvalidRequirement, match=message):
        build()


def test_check_requirements_counts_and_repeats():
    eleven = [own(f"3TYPE{n}", "Exists") for n in range(11)]
    assert check_requirements(eleven) == ["A HIT takes at most 10 requirements; there are 11."]
    assert check_requirements(eleven[:10]) == []

    repeated = [masters(sandbox=True), masters(sandbox=True)]
    assert check_requirements(repeated) == [
        "Requirement 2: Masters (sandbox) is already required above."
    ]
    broken = [{"QualificationTypeId": PERCENT_ASSIGNMENTS_APPROVED, "Comparator": "In"}]
    assert check_requirements(broken) == [
        "Requirement 1: Percent of assignments approved: In needs at least one value."
    ]


# --- Layout parameters ----------------------------------------------------------------------------


def test_layout_parameters():
    assert layout_parameters({"image_url": "https://x/1.png", "count": 3, "pay": Money("1")}) == [
        {"Name": "image_url", "Value": "https://x/1.png"},
        {"Name": "count", "Value": "3"},
        {"Name": "pay", "Value": "1.00"},
    ]
    with pytest.raises(ValueError, match="name 'bad name'"):
        layout_parameters({"bad name": "x"})
    with pytest.raises(ValueError, match="float is not text"):
        layout_parameters({"ratio": 0.5})  # type: ignore[dict-item]


# --- QuestionForm ---------------------------------------------------------------------------------


def test_question_form_builds_a_valid_document_the_test_editor_reads_back():
    form = QuestionForm(overview="Read the sentence.\n\nThen answer.")
    form.choice("sentiment", "Is it positive?", [("yes", "Yes"), ("no", "No & <maybe>")])
    form.choice("topics", "Topics?", [("a", "Art"), ("b", "Biology")], multiple=True)
    form.free_text("why", "Why?", required=False)

    xml = form.to_xml()

    assert validate_question_form(xml) == []
    parsed = parse_test(xml)
    assert parsed.overview == "Read the sentence.\n\nThen answer."
    assert [q.identifier for q in parsed.questions] == ["sentiment", "topics", "why"]
    assert parsed.questions[0].options[1].text == "No & <maybe>"
    assert parsed.questions[2].required is False


def test_question_form_refuses_what_mturk_would():
    with pytest.raises(ValueError, match="at least one question"):
        QuestionForm().to_xml()
    form = QuestionForm().free_text("q", "Text?")
    with pytest.raises(ValueError, match="used by another question"):
        form.free_text("q", "Again?")
    with pytest.raises(ValueError, match="needs choices"):
        form.choice("c", "Pick", [])
    big = QuestionForm().free_text("q", "x" * 70000)
    with pytest.raises(ValueError, match="65535"):
        big.to_xml()


def test_question_form_writes_free_text_constraints_and_selection_styles():
    form = QuestionForm()
    form.free_text(
        "zip",
        "Your ZIP code?",
        min_length=5,
        max_length=10,
        regex="^[0-9]{5}(-[0-9]{4})?$",
        regex_error='Five digits, like "12345".',
        lines=1,
    )
    form.free_text("notes", "Anything else?", required=False)
    form.choice("colour", "Colour?", [("r", "Red"), ("g", "Green")], style="dropdown")
    form.choice(
        "fruit",
        "Fruit?",
        [("a", "Apple"), ("b", "Banana"), ("c", "Cherry")],
        multiple=True,
        min_selections=2,
        max_selections=2,
    )

    xml = form.to_xml()

    assert validate_question_form(xml) == []
    assert '<Length minLength="5" maxLength="10"/>' in xml
    assert 'errorText="Five digits, like &quot;12345&quot;."' in xml
    assert "<NumberOfLinesSuggestion>1</NumberOfLinesSuggestion>" in xml
    assert "<StyleSuggestion>dropdown</StyleSuggestion>" in xml
    assert "<MinSelectionCount>2</MinSelectionCount>" in xml
    assert "<MaxSelectionCount>2</MaxSelectionCount>" in xml
    # A question without constraints keeps the plain element the test editor reads back.
    assert xml.count("<FreeTextAnswer/>") == 1


def test_question_form_refuses_bad_constraints_identifiers_and_counts():
    with pytest.raises(ValueError, match="minimum length is above"):
        QuestionForm().free_text("q", "Text?", min_length=5, max_length=2)
    with pytest.raises(ValueError, match="error text needs a regular expression"):
        QuestionForm().free_text("q", "Text?", regex_error="No.")
    with pytest.raises(ValueError, match="number of lines"):
        QuestionForm().free_text("q", "Text?", lines=0)
    with pytest.raises(ValueError, match="must be letters, digits"):
        QuestionForm().free_text("my question", "Text?")
    with pytest.raises(ValueError, match="choice identifier"):
        QuestionForm().choice("q", "Pick", [("a b", "A")])
    with pytest.raises(ValueError, match="selection counts must be"):
        QuestionForm().choice(
            "q", "Pick", [("a", "A"), ("b", "B")], multiple=True, min_selections=2, max_selections=1
        )
    with pytest.raises(ValueError, match="selection counts must be"):
        QuestionForm().choice("q", "Pick", [("a", "A")], multiple=True, max_selections=3)
    with pytest.raises(ValueError, match="selection counts are for"):
        QuestionForm().choice("q", "Pick", [("a", "A")], max_selections=1)
    with pytest.raises(ValueError, match="style is for"):
        QuestionForm().choice("q", "Pick", [("a", "A")], style="checkbox")


# --- With boto3, at the emulator ------------------------------------------------------------------


def test_a_hit_created_with_the_helpers_is_accepted_by_the_emulator(gateway):
    mturk = gateway.client  # plain boto3, as a script has it
    form = QuestionForm(overview="Describe the picture.").free_text("caption", "One sentence.")
    response = mturk.create_hit(
        Title="Caption a picture",
        Description="One sentence",
        Reward=Money("0.25").as_mturk(),
        AssignmentDurationInSeconds=600,
        LifetimeInSeconds=3600,
        MaxAssignments=1,
        Question=form.to_xml(),
        QualificationRequirements=[
            percent_assignments_approved(">=", 95),
            locale_in(["US", "CA"]),
            masters(sandbox=True),
        ],
    )

    hit = mturk.get_hit(HITId=response["HIT"]["HITId"])["HIT"]
    # The dashboard's gateway takes the same Money, and refuses a float reward the same way.
    with pytest.raises(TypeError, match="float"):
        gateway.create_hit_type(
            title="T", description="D", reward=0.25, assignment_duration_seconds=60
        )
    assert hit["Reward"] == "0.25"
    assert [r["QualificationTypeId"] for r in hit["QualificationRequirements"]] == [
        PERCENT_ASSIGNMENTS_APPROVED,
        LOCALE,
        MASTERS_SANDBOX,
    ]


def test_a_question_form_with_constraints_and_styles_is_accepted_by_the_emulator(gateway):
    mturk = gateway.client
    form = QuestionForm(overview="About the photo.")
    form.free_text("age", "Age?", max_length=3, regex="^[0-9]+$", regex_error="Digits.", lines=1)
    form.choice("colour", "Colour?", [("r", "Red"), ("g", "Green")], style="dropdown")
    form.choice(
        "tags", "Tags?", [("a", "A"), ("b", "B"), ("c", "C")], multiple=True, max_selections=2
    )
    question = form.to_xml()

    response = mturk.create_hit(
        Title="Describe a photo",
        Description="Three questions",
        Reward=Money("0.10").as_mturk(),
        AssignmentDurationInSeconds=600,
        LifetimeInSeconds=3600,
        MaxAssignments=1,
        Question=question,
    )

    hit = mturk.get_hit(HITId=response["HIT"]["HITId"])["HIT"]
    assert hit["Question"] == question
