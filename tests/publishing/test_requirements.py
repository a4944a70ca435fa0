"""The requirements builder: presets of QualificationRequirements, built with mturk.requesting."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.enums import Environment
from mturk.requesting import (
    ADULT,
    LOCALE,
    MASTERS_LIVE,
    MASTERS_SANDBOX,
    NUMBER_HITS_APPROVED,
    PERCENT_ASSIGNMENTS_APPROVED,
)
from people.models import StudyGroup
from publishing import requirements
from publishing.models import RequirementPreset
from publishing.requirements import PresetProblem, Row
from qualifications.enums import LabPurpose
from qualifications.models import QualificationType

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab_types(account):
    own = QualificationType.objects.create(
        account=account, qualification_type_id="3OWNSKILL", name="Skill test"
    )
    soft = QualificationType.objects.create(
        account=account,
        qualification_type_id="3SOFTBLOCK",
        name="Exclusion list",
        lab_purpose=LabPurpose.SOFT_BLOCK,
    )
    group_type = QualificationType.objects.create(
        account=account,
        qualification_type_id="3GROUPEXCL",
        name="Group exclusion",
        lab_purpose=LabPurpose.STUDY_GROUP,
    )
    group = StudyGroup.objects.create(account=account, name="Faces", qualification_type=group_type)
    return {"own": own, "soft": soft, "group_type": group_type, "group": group}


def _post_data(name: str, rows: list[dict[str, str]], **extra: str) -> dict[str, str]:
    data = {
        "name": name,
        "row-TOTAL_FORMS": str(len(rows)),
        "row-INITIAL_FORMS": "0",
        "row-MIN_NUM_FORMS": "0",
        "row-MAX_NUM_FORMS": "1000",
        **extra,
    }
    for index, row in enumerate(rows):
        for key in ("kind", "comparator", "values"):
            data[f"row-{index}-{key}"] = row.get(key, "")
        data[f"row-{index}-actions_guarded"] = row.get("actions_guarded", "Accept")
    return data


# --- Each kind builds the right dict ----------------------------------------------------------


def test_each_kind_builds_mturks_requirement(account, lab_types):
    rows = [
        Row("masters"),
        Row("percent_approved", "GreaterThanOrEqualTo", "95"),
        Row("number_approved", "GreaterThan", "1000", "DiscoverPreviewAndAccept"),
        Row("locale", "", "US-CA, de", "PreviewAndAccept"),
        Row("adult"),
        Row("own:3OWNSKILL", "In", "3 4"),
        Row("soft_block", "", "", "DiscoverPreviewAndAccept"),
        Row(f"group:{lab_types['group'].pk}", "", "", "DiscoverPreviewAndAccept"),
    ]

    built = requirements.build_requirements(account, rows)

    assert built == [
        {
            "QualificationTypeId": MASTERS_SANDBOX,
            "Comparator": "Exists",
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": PERCENT_ASSIGNMENTS_APPROVED,
            "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [95],
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": NUMBER_HITS_APPROVED,
            "Comparator": "GreaterThan",
            "IntegerValues": [1000],
            "ActionsGuarded": "DiscoverPreviewAndAccept",
        },
        {
            "QualificationTypeId": LOCALE,
            "Comparator": "In",
            "LocaleValues": [{"Country": "US", "Subdivision": "CA"}, {"Country": "DE"}],
            "ActionsGuarded": "PreviewAndAccept",
        },
        {
            "QualificationTypeId": ADULT,
            "Comparator": "EqualTo",
            "IntegerValues": [1],
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": "3OWNSKILL",
            "Comparator": "In",
            "IntegerValues": [3, 4],
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": "3SOFTBLOCK",
            "Comparator": "DoesNotExist",
            "ActionsGuarded": "DiscoverPreviewAndAccept",
        },
        {
            "QualificationTypeId": "3GROUPEXCL",
            "Comparator": "DoesNotExist",
            "ActionsGuarded": "DiscoverPreviewAndAccept",
        },
    ]
    # Read back for editing, each row gives the same requirement again.
    assert [requirements.row_for(account, item) for item in built][5:] == [
        Row("own:3OWNSKILL", "In", "3 4", "Accept"),
        Row("soft_block", "DoesNotExist", "", "DiscoverPreviewAndAccept"),
        Row(f"group:{lab_types['group'].pk}", "DoesNotExist", "", "DiscoverPreviewAndAccept"),
    ]
    again = requirements.build_requirements(
        account, [requirements.row_for(account, item) for item in built]
    )
    assert again == built


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        (Environment.EMULATOR, MASTERS_SANDBOX),
        (Environment.SANDBOX, MASTERS_SANDBOX),
        (Environment.LIVE, MASTERS_LIVE),
    ],
)
def test_masters_id_follows_the_accounts_environment(account, environment, expected):
    account.environment = environment

    (built,) = requirements.build_requirements(account, [Row("masters")])

    assert built["QualificationTypeId"] == expected


def test_lab_exclusion_types_are_not_offered_as_own_types(account, lab_types):
    QualificationType.objects.create(
        account=account, qualification_type_id="3GOING", name="Going", status="Disposing"
    )
    flat = dict(choice for _, group in requirements.kind_choices(account)[1:] for choice in group)
    assert "own:3OWNSKILL" in flat
    assert "own:3SOFTBLOCK" not in flat and "own:3GROUPEXCL" not in flat
    assert "own:3GOING" not in flat
    assert "soft_block" in flat and f"group:{lab_types['group'].pk}" in flat
    with pytest.raises(PresetProblem, match="not one of the lab's own"):
        requirements.build_requirements(account, [Row("own:3SOFTBLOCK", "Exists")])


# --- Refusals -------------------------------------------------------------------------------


def test_more_than_ten_requirements_are_refused(account):
    types = [
        QualificationType.objects.create(
            account=account, qualification_type_id=f"3TYPE{n:02d}", name=f"Type {n}"
        )
        for n in range(11)
    ]
    rows = [Row(f"own:{qtype.qualification_type_id}", "Exists") for qtype in types]

    with pytest.raises(PresetProblem, match="at most 10 requirements; there are 11"):
        requirements.build_requirements(account, rows)
    assert len(requirements.build_requirements(account, rows[:10])) == 10


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (Row("percent_approved", "GreaterThan", "120"), "outside 0 to 100"),
        (Row("percent_approved", "", "90"), "Choose a comparator"),
        (Row("percent_approved", "GreaterThan", "90 95"), "exactly one value"),
        (Row("number_approved", "GreaterThan", "lots"), "“lots” is not a whole number"),
        (Row("masters", "GreaterThan", "1"), "compared with Exists"),
        (Row("locale", "GreaterThan", "US"), "compared with EqualTo"),
        (Row("locale", "In", "ZZ"), "not an ISO 3166 country code"),
        (Row("locale", "In", "FR-75"), "only for the United States"),
        (Row("locale", "In", ""), "needs at least one value"),
        (Row("adult", "EqualTo", "5"), "outside 0 to 1"),
        (Row("soft_block"), "no exclusion list yet"),
        (Row("group:999999"), "does not exist"),
        (Row("bogus"), "not a kind of requirement"),
    ],
)
def test_bad_comparator_and_value_combinations_are_refused(account, row, message):
    with pytest.raises(PresetProblem, match=message):
        requirements.build_requirements(account, [row])


def test_a_group_without_its_exclusion_qualification_is_refused(account):
    group = StudyGroup.objects.create(account=account, name="New group")

    with pytest.raises(PresetProblem, match="has no exclusion qualification yet"):
        requirements.build_requirements(account, [Row(f"group:{group.pk}")])


def test_a_type_twice_is_refused(account):
    with pytest.raises(PresetProblem, match="already required above"):
        requirements.build_requirements(account, [Row("masters"), Row("masters")])


# --- Views ----------------------------------------------------------------------------------


def test_admin_creates_a_preset_and_it_is_saved_as_mturk_takes_it(account, lab_admin_client):
    url = reverse("preset-create", kwargs={"slug": account.slug})
    data = _post_data(
        "US masters",
        [
            {"kind": "masters"},
            {"kind": "locale", "values": "US"},
            {"kind": ""},  # a blank line is ignored
        ],
    )

    response = lab_admin_client.post(url, data)

    assert response.status_code == 302
    preset = RequirementPreset.objects.get(account=account, name="US masters")
    assert preset.requirements == [
        {
            "QualificationTypeId": MASTERS_SANDBOX,
            "Comparator": "Exists",
            "ActionsGuarded": "Accept",
        },
        {
            "QualificationTypeId": LOCALE,
            "Comparator": "In",
            "LocaleValues": [{"Country": "US"}],
            "ActionsGuarded": "Accept",
        },
    ]
    page = lab_admin_client.get(reverse("preset-list", kwargs={"slug": account.slug}))
    assert "US masters" in page.content.decode()


def test_add_a_requirement_rerenders_with_one_more_row_and_saves_nothing(account, lab_admin_client):
    url = reverse("preset-create", kwargs={"slug": account.slug})
    data = _post_data("Draft", [{"kind": "masters"}], add="1")

    response = lab_admin_client.post(url, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="row-1-kind"' in page and 'name="row-2-kind"' not in page
    assert 'name="row-TOTAL_FORMS" value="2"' in page
    assert not RequirementPreset.objects.exists()


def test_new_preset_page_starts_with_one_row(account, lab_admin_client):
    page = lab_admin_client.get(reverse("preset-create", kwargs={"slug": account.slug}))

    assert page.status_code == 200
    assert 'name="row-0-kind"' in page.content.decode()


def test_bad_rows_are_a_400_with_messages_and_nothing_is_saved(account, lab_admin_client):
    url = reverse("preset-create", kwargs={"slug": account.slug})
    rows = [{"kind": "percent_approved", "comparator": "GreaterThan", "values": "150"}]

    response = lab_admin_client.post(url, _post_data("Bad", rows))

    assert response.status_code == 400
    assert "Requirement 1: Percent of assignments approved: 150 is outside 0 to 100." in (
        response.content.decode()
    )
    assert not RequirementPreset.objects.exists()


def test_eleven_rows_are_refused_in_the_form(account, lab_admin_client):
    for n in range(11):
        QualificationType.objects.create(
            account=account, qualification_type_id=f"3TYPE{n:02d}", name=f"Type {n}"
        )
    rows = [{"kind": f"own:3TYPE{n:02d}", "comparator": "Exists"} for n in range(11)]

    response = lab_admin_client.post(
        reverse("preset-create", kwargs={"slug": account.slug}), _post_data("Many", rows)
    )

    assert response.status_code == 400
    assert "at most 10 requirements" in response.content.decode()
    assert not RequirementPreset.objects.exists()


def test_a_broken_management_form_is_a_400_not_a_500(account, lab_admin_client):
    response = lab_admin_client.post(
        reverse("preset-create", kwargs={"slug": account.slug}), {"name": "X"}
    )

    assert response.status_code == 400


def test_editing_shows_the_rows_and_saves_changes(account, lab_admin_client):
    preset = RequirementPreset.objects.create(
        account=account,
        name="Approval",
        requirements=[
            {
                "QualificationTypeId": PERCENT_ASSIGNMENTS_APPROVED,
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [95],
                "ActionsGuarded": "Accept",
            }
        ],
    )
    url = reverse("preset-edit", kwargs={"slug": account.slug, "pk": preset.pk})

    page = lab_admin_client.get(url).content.decode()
    assert '<option value="percent_approved" selected>' in page
    assert 'name="row-0-values" value="95"' in page

    rows = [{"kind": "percent_approved", "comparator": "GreaterThanOrEqualTo", "values": "98"}]
    assert lab_admin_client.post(url, _post_data("Approval 98", rows)).status_code == 302
    preset.refresh_from_db()
    assert preset.name == "Approval 98"
    assert preset.requirements[0]["IntegerValues"] == [98]


def test_a_taken_name_is_refused(account, lab_admin_client):
    RequirementPreset.objects.create(account=account, name="Taken")

    response = lab_admin_client.post(
        reverse("preset-create", kwargs={"slug": account.slug}),
        _post_data("Taken", [{"kind": "adult"}]),
    )

    assert response.status_code == 400
    assert "already exists" in response.content.decode()


def test_delete(account, lab_admin_client):
    preset = RequirementPreset.objects.create(account=account, name="Old")

    response = lab_admin_client.post(
        reverse("preset-delete", kwargs={"slug": account.slug, "pk": preset.pk})
    )

    assert response.status_code == 302
    assert not RequirementPreset.objects.filter(pk=preset.pk).exists()


# --- Allowed and forbidden paths --------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "list_status", "edit_status"),
    [("anonymous", 302, 302), ("staff", 200, 403), ("other_staff", 404, 404), ("admin", 200, 200)],
)
def test_who_may_see_and_edit_presets(
    personas, account, other_account, persona, list_status, edit_status
):
    preset = RequirementPreset.objects.create(account=account, name="Seen")
    client = personas[persona]
    kwargs = {"slug": account.slug}

    listing = client.get(reverse("preset-list", kwargs=kwargs))
    assert listing.status_code == list_status
    assert client.get(reverse("preset-create", kwargs=kwargs)).status_code == edit_status
    edit_url = reverse("preset-edit", kwargs={**kwargs, "pk": preset.pk})
    assert client.get(edit_url).status_code == edit_status
    if persona == "anonymous":
        assert listing["Location"].startswith(reverse("login"))
    if persona == "staff":
        # Staff see the list without the controls; their edits are refused and change nothing.
        assert "New preset" not in listing.content.decode()
        response = client.post(edit_url, _post_data("Hijacked", [{"kind": "adult"}]))
        assert response.status_code == 403
        delete_url = reverse("preset-delete", kwargs={**kwargs, "pk": preset.pk})
        assert client.post(delete_url).status_code == 403
        preset.refresh_from_db()
        assert preset.name == "Seen"


def test_another_accounts_preset_is_a_404(account, other_account, lab_admin_client):
    theirs = RequirementPreset.objects.create(account=other_account, name="Theirs")

    url = reverse("preset-edit", kwargs={"slug": account.slug, "pk": theirs.pk})

    assert lab_admin_client.get(url).status_code == 404
    delete = reverse("preset-delete", kwargs={"slug": account.slug, "pk": theirs.pk})
    assert lab_admin_client.post(delete).status_code == 404
    assert RequirementPreset.objects.filter(pk=theirs.pk).exists()
