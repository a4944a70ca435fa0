"""Qualification types, tests with answer keys, requests, grants, scores, locales, and their
enforcement (with blocks) when workers look for work."""

from __future__ import annotations

import pytest

from tests.emulator.helpers import ANSWER_KEY, QUESTION_FORM, create_hit, error_of


def new_type(mturk, name="Colour vision", **kwargs) -> str:
    return mturk.create_qualification_type(
        Name=name, Description="Can tell colours apart", QualificationTypeStatus="Active", **kwargs
    )["QualificationType"]["QualificationTypeId"]


def test_type_crud_and_listing(emu, mturk):
    qtid = new_type(mturk, Keywords="colour")
    got = mturk.get_qualification_type(QualificationTypeId=qtid)["QualificationType"]
    assert got["Name"] == "Colour vision" and got["QualificationTypeStatus"] == "Active"
    assert got["IsRequestable"] is True and got["AutoGranted"] is False
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        new_type(mturk)
    assert "unique" in error_of(excinfo)["message"]
    updated = mturk.update_qualification_type(
        QualificationTypeId=qtid,
        Description="New",
        QualificationTypeStatus="Inactive",
        RetryDelayInSeconds=60,
    )["QualificationType"]
    assert updated["Description"] == "New" and updated["QualificationTypeStatus"] == "Inactive"
    assert updated["RetryDelayInSeconds"] == 60
    found = mturk.list_qualification_types(
        MustBeRequestable=False, MustBeOwnedByCaller=True, Query="colour"
    )
    assert [q["QualificationTypeId"] for q in found["QualificationTypes"]] == [qtid]
    system = mturk.list_qualification_types(MustBeRequestable=False, Query="Locale")[
        "QualificationTypes"
    ]
    assert system[0]["QualificationTypeId"] == "00000000000000000071"
    mturk.delete_qualification_type(QualificationTypeId=qtid)
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.get_qualification_type(QualificationTypeId=qtid)
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.delete_qualification_type(QualificationTypeId=qtid)


def test_test_and_answer_key_rules(emu, mturk):
    with pytest.raises(mturk.exceptions.RequestError):
        new_type(mturk, "no-duration", Test=QUESTION_FORM)
    with pytest.raises(mturk.exceptions.RequestError):
        new_type(mturk, "key-without-test", AnswerKey=ANSWER_KEY)
    with pytest.raises(mturk.exceptions.RequestError):
        new_type(
            mturk, "test-and-auto", Test=QUESTION_FORM, TestDurationInSeconds=60, AutoGranted=True
        )
    qtid = new_type(
        mturk, "scored", Test=QUESTION_FORM, TestDurationInSeconds=300, AnswerKey=ANSWER_KEY
    )
    got = mturk.get_qualification_type(QualificationTypeId=qtid)["QualificationType"]
    assert got["Test"] == QUESTION_FORM and got["AnswerKey"] == ANSWER_KEY


def test_answer_key_scores_requests_at_once(emu, mturk):
    qtid = new_type(
        mturk,
        "scored",
        Test=QUESTION_FORM,
        TestDurationInSeconds=300,
        AnswerKey=ANSWER_KEY,
        RetryDelayInSeconds=10,
    )
    right = emu.control.post(
        "workers/AGOOD/qualification-requests",
        {"QualificationTypeId": qtid, "answers": {"fruit": "apples"}},
    )
    assert right == {"Granted": True, "IntegerValue": 100}
    wrong = emu.control.post(
        "workers/ABAD/qualification-requests",
        {"QualificationTypeId": qtid, "answers": {"fruit": "pears"}},
    )
    assert wrong["IntegerValue"] == 0
    score = mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="AGOOD")[
        "Qualification"
    ]
    assert score["IntegerValue"] == 100 and score["Status"] == "Granted"
    assert mturk.list_qualification_requests(QualificationTypeId=qtid)["NumResults"] == 0


def test_manual_requests_accept_and_reject(emu, mturk):
    qtid = new_type(mturk, "manual", Test=QUESTION_FORM, TestDurationInSeconds=300)
    emu.control.post(
        "workers/AONE/qualification-requests",
        {"QualificationTypeId": qtid, "answers": {"fruit": "apples"}},
    )
    emu.control.post("workers/ATWO/qualification-requests", {"QualificationTypeId": qtid})
    requests = mturk.list_qualification_requests(QualificationTypeId=qtid)["QualificationRequests"]
    assert [r["WorkerId"] for r in requests] == ["AONE", "ATWO"]
    assert "apples" in requests[0]["Answer"] and requests[0]["Test"] == QUESTION_FORM
    mturk.accept_qualification_request(
        QualificationRequestId=requests[0]["QualificationRequestId"], IntegerValue=7
    )
    mturk.reject_qualification_request(
        QualificationRequestId=requests[1]["QualificationRequestId"], Reason="No"
    )
    assert (
        mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="AONE")["Qualification"][
            "IntegerValue"
        ]
        == 7
    )
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="ATWO")
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.accept_qualification_request(
            QualificationRequestId=requests[1]["QualificationRequestId"]
        )
    # Without RetryDelayInSeconds a worker may ask only once.
    with pytest.raises(Exception) as excinfo:
        emu.control.post("workers/ATWO/qualification-requests", {"QualificationTypeId": qtid})
    assert excinfo.value.status == 409


def test_auto_granted_type(emu, mturk):
    qtid = new_type(mturk, "auto", AutoGranted=True, AutoGrantedValue=5)
    result = emu.control.post("workers/AAUTO/qualification-requests", {"QualificationTypeId": qtid})
    assert result == {"Granted": True, "IntegerValue": 5}


def test_associate_disassociate_and_list_workers(emu, mturk):
    qtid = new_type(mturk)
    mturk.associate_qualification_with_worker(
        QualificationTypeId=qtid, WorkerId="AW1", IntegerValue=80, SendNotification=False
    )
    mturk.associate_qualification_with_worker(QualificationTypeId=qtid, WorkerId="AW2")
    assert (
        mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="AW2")["Qualification"][
            "IntegerValue"
        ]
        == 1
    )
    mturk.disassociate_qualification_from_worker(
        QualificationTypeId=qtid, WorkerId="AW2", Reason="expired"
    )
    granted = mturk.list_workers_with_qualification_type(QualificationTypeId=qtid, Status="Granted")
    assert [q["WorkerId"] for q in granted["Qualifications"]] == ["AW1"]
    # The revoked score is still listed (Status=Revoked), but no longer readable on its own.
    everyone = mturk.list_workers_with_qualification_type(QualificationTypeId=qtid)
    assert {q["WorkerId"]: q["Status"] for q in everyone["Qualifications"]} == {
        "AW1": "Granted",
        "AW2": "Revoked",
    }
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.disassociate_qualification_from_worker(QualificationTypeId=qtid, WorkerId="AW2")
    assert "This operation can be called with a status of: Granted" in error_of(excinfo)["message"]


def test_a_revoked_score_is_mturks_status_error_and_never_granted_does_not_exist(emu, mturk):
    """Clients tell the two apart by these texts (Dallinger: WorkerLacksQualification on "does not
    exist", RevokedQualification on "status of: Granted"), then count the worker as unqualified."""
    qtid = new_type(mturk)
    mturk.associate_qualification_with_worker(
        QualificationTypeId=qtid, WorkerId="AREVOKED", IntegerValue=3
    )
    mturk.disassociate_qualification_from_worker(QualificationTypeId=qtid, WorkerId="AREVOKED")
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="AREVOKED")
    revoked = error_of(excinfo)
    assert revoked["message"].startswith("This operation can be called with a status of: Granted (")
    assert "does not exist" not in revoked["message"]
    assert revoked["turk"] == "AWS.MechanicalTurk.InvalidQualificationState"

    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="ANEVERGRANTED")
    never = error_of(excinfo)
    assert "does not exist" in never["message"] and "status of" not in never["message"]
    with pytest.raises(mturk.exceptions.RequestError) as excinfo:
        mturk.disassociate_qualification_from_worker(
            QualificationTypeId=qtid, WorkerId="ANEVERGRANTED"
        )
    assert "does not exist" in error_of(excinfo)["message"]

    # Granting again makes the score readable again, with the new value (a counter restarts at 1).
    mturk.associate_qualification_with_worker(
        QualificationTypeId=qtid, WorkerId="AREVOKED", IntegerValue=1
    )
    score = mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="AREVOKED")
    assert score["Qualification"]["Status"] == "Granted"
    assert score["Qualification"]["IntegerValue"] == 1
    with pytest.raises(mturk.exceptions.RequestError):
        mturk.associate_qualification_with_worker(
            QualificationTypeId="00000000000000000071", WorkerId="AW1"
        )


def test_locale_value_of_a_worker(emu, mturk):
    emu.control.add_worker(WorkerId="ALOCAL", locale={"Country": "US", "Subdivision": "CA"})
    q = mturk.get_qualification_score(
        QualificationTypeId="00000000000000000071", WorkerId="ALOCAL"
    )["Qualification"]
    assert q["LocaleValue"] == {"Country": "US", "Subdivision": "CA"}


def test_requirements_and_blocks_are_enforced_when_accepting(emu, mturk):
    qtid = new_type(mturk)
    hit = create_hit(
        mturk,
        MaxAssignments=5,
        QualificationRequirements=[
            {
                "QualificationTypeId": qtid,
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [50],
            },
            {
                "QualificationTypeId": "00000000000000000071",
                "Comparator": "EqualTo",
                "LocaleValues": [{"Country": "US"}],
            },
        ],
    )
    emu.control.add_worker(WorkerId="AUSHIGH", locale={"Country": "US"})
    emu.control.add_worker(WorkerId="AUSLOW", locale={"Country": "US"})
    emu.control.add_worker(WorkerId="AINHIGH", locale={"Country": "IN"})
    emu.control.add_worker(WorkerId="ABLOCK", locale={"Country": "US"})
    for worker, value in (("AUSHIGH", 90), ("AUSLOW", 10), ("AINHIGH", 90), ("ABLOCK", 90)):
        mturk.associate_qualification_with_worker(
            QualificationTypeId=qtid, WorkerId=worker, IntegerValue=value
        )
    mturk.create_worker_block(WorkerId="ABLOCK", Reason="Spam")
    assert emu.control.accept("AUSHIGH", hit["HITId"])["AssignmentStatus"] == "Accepted"
    for worker in ("AUSLOW", "AINHIGH", "ABLOCK"):
        with pytest.raises(Exception) as excinfo:
            emu.control.accept(worker, hit["HITId"])
        assert excinfo.value.status == 409


def test_system_qualifications_percent_approved_and_masters(emu, mturk):
    for worker in ("AMIXED", "AFRESH"):
        emu.control.add_worker(WorkerId=worker, masters=worker == "AFRESH")
    for answer, verdict in (("a", "approve"), ("b", "reject")):
        other = create_hit(mturk, MaxAssignments=1, RequesterAnnotation=answer)
        assignment = emu.control.accept("AMIXED", other["HITId"])
        emu.control.submit(assignment["AssignmentId"], {"color": answer})
        if verdict == "approve":
            mturk.approve_assignment(AssignmentId=assignment["AssignmentId"])
        else:
            mturk.reject_assignment(AssignmentId=assignment["AssignmentId"], RequesterFeedback="no")
    score = mturk.get_qualification_score(
        QualificationTypeId="000000000000000000L0", WorkerId="AMIXED"
    )
    assert score["Qualification"]["IntegerValue"] == 50
    strict = create_hit(
        mturk,
        MaxAssignments=3,
        QualificationRequirements=[
            {
                "QualificationTypeId": "000000000000000000L0",
                "Comparator": "GreaterThanOrEqualTo",
                "IntegerValues": [90],
            },
            {"QualificationTypeId": "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6", "Comparator": "Exists"},
        ],
    )
    with pytest.raises(Exception) as excinfo:
        emu.control.accept("AMIXED", strict["HITId"])
    assert excinfo.value.status == 409
    assert emu.control.accept("AFRESH", strict["HITId"])["AssignmentStatus"] == "Accepted"
