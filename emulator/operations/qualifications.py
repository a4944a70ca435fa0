"""Qualification types, tests and answer keys, requests, grants and scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator import pagination
from emulator import requirements as reqs
from emulator.answer_xml import check_answer_key, parse_answers, score_answer_key
from emulator.operations import checks as ck
from emulator.operations.registry import Context, operation
from emulator.protocol import RequestError, epoch, invalid_param, not_found, wrong_status
from emulator.state import Qualification, QualificationRequest, QualificationType

if TYPE_CHECKING:
    from emulator.engine import Emulator

_SYSTEM_SEQ = {qtid: -100 + i for i, qtid in enumerate(reqs.SYSTEM_TYPES)}
GRANTED, REVOKED = "Granted", "Revoked"
# MTurk's code for a qualification in the wrong status is not documented; this is the legacy one.
INVALID_QUALIFICATION_STATE = "AWS.MechanicalTurk.InvalidQualificationState"


def system_type(qtid: str) -> QualificationType:
    name, description = reqs.SYSTEM_TYPES[qtid]
    return QualificationType(
        qualification_type_id=qtid,
        name=name,
        description=description,
        status="Active",
        creation_time=1104537600.0,
        seq=_SYSTEM_SEQ[qtid],
        is_requestable=False,
        system=True,
    )


def get_type(emu: Emulator, qtid: str, *, allow_system: bool = True) -> QualificationType:
    qt = emu.state.qualification_types.get(qtid)
    if qt is not None:
        return qt
    if allow_system and qtid in reqs.SYSTEM_TYPES:
        return system_type(qtid)
    raise not_found("QualificationType", qtid)


def render_type(qt: QualificationType) -> dict[str, Any]:
    data: dict[str, Any] = {
        "QualificationTypeId": qt.qualification_type_id,
        "CreationTime": epoch(qt.creation_time),
        "Name": qt.name,
        "Description": qt.description,
        "QualificationTypeStatus": qt.status,
        "IsRequestable": qt.is_requestable,
        "AutoGranted": qt.auto_granted,
    }
    for key, value in (
        ("Keywords", qt.keywords),
        ("Test", qt.test),
        ("AnswerKey", qt.answer_key),
        ("TestDurationInSeconds", qt.test_duration),
        ("RetryDelayInSeconds", qt.retry_delay),
    ):
        if value is not None:
            data[key] = value
    if qt.auto_granted:
        data["AutoGrantedValue"] = 1 if qt.auto_granted_value is None else qt.auto_granted_value
    return data


def render_qualification(q: Qualification) -> dict[str, Any]:
    data: dict[str, Any] = {
        "QualificationTypeId": q.qualification_type_id,
        "WorkerId": q.worker_id,
        "GrantTime": epoch(q.grant_time),
        "Status": q.status,
    }
    if q.integer_value is not None:
        data["IntegerValue"] = q.integer_value
    if q.locale_value is not None:
        data["LocaleValue"] = q.locale_value
    return data


def _apply_test_fields(qt: QualificationType, params: dict[str, Any], creating: bool) -> None:
    if "Test" in params:
        ck.question(params["Test"])
        if "QuestionForm" not in params["Test"]:
            raise invalid_param("Test must be a QuestionForm data structure.")
        qt.test = params["Test"]
    if "TestDurationInSeconds" in params:
        qt.test_duration = params["TestDurationInSeconds"]
    if "AnswerKey" in params:
        try:
            check_answer_key(params["AnswerKey"])
        except ValueError as exc:
            raise invalid_param(str(exc)) from None
        qt.answer_key = params["AnswerKey"]
    elif "Test" in params:
        # "If you provide an updated Test but no AnswerKey, the new test will not have an answer
        # key. Requests for such Qualifications must be granted manually."
        qt.answer_key = None
    if "RetryDelayInSeconds" in params:
        if params["RetryDelayInSeconds"] < 0:
            raise invalid_param("RetryDelayInSeconds must not be negative.")
        qt.retry_delay = params["RetryDelayInSeconds"]
    if "AutoGranted" in params:
        qt.auto_granted = params["AutoGranted"]
    if "AutoGrantedValue" in params:
        qt.auto_granted_value = params["AutoGrantedValue"]
    if qt.test and qt.test_duration is None:
        raise invalid_param("TestDurationInSeconds is required when a Test is given.")
    if qt.answer_key and not qt.test:
        raise invalid_param("An AnswerKey needs a Test.")
    if qt.test and qt.auto_granted:
        raise invalid_param("A Qualification type cannot have both a Test and AutoGranted.")


@operation("CreateQualificationType")
def create_qualification_type(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    name = ck.text(params, "Name", 255, required=True)
    description = ck.text(params, "Description", 2000, required=True)
    keywords = ck.text(params, "Keywords", 1000)
    if any(q.name == name for q in emu.state.qualification_types.values()):
        raise RequestError(
            "You have already created a QualificationType with this name. A QualificationType's "
            "name must be unique among all of the QualificationTypes created by the same user.",
            "AWS.MechanicalTurk.QualificationTypeAlreadyExists",
        )
    qt = QualificationType(
        qualification_type_id=emu.ids.entity(),
        name=name,
        description=description,
        keywords=keywords,
        status=params["QualificationTypeStatus"],
        creation_time=emu.now,
        seq=emu.state.next_seq(),
    )
    _apply_test_fields(qt, params, True)
    emu.state.qualification_types[qt.qualification_type_id] = qt
    return {"QualificationType": render_type(qt)}


@operation("GetQualificationType")
def get_qualification_type(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    return {"QualificationType": render_type(get_type(emu, params["QualificationTypeId"]))}


@operation("UpdateQualificationType")
def update_qualification_type(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid = params["QualificationTypeId"]
    if qtid in reqs.SYSTEM_TYPES:
        raise invalid_param(f"System QualificationType {qtid} cannot be updated.")
    qt = get_type(emu, qtid, allow_system=False)
    updated = QualificationType(**vars(qt))
    if "Description" in params:
        updated.description = ck.text(params, "Description", 2000, required=True)
    if "QualificationTypeStatus" in params:
        updated.status = params["QualificationTypeStatus"]
    _apply_test_fields(updated, params, False)
    emu.state.qualification_types[qtid] = updated
    return {"QualificationType": render_type(updated)}


@operation("DeleteQualificationType")
def delete_qualification_type(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid = params["QualificationTypeId"]
    get_type(emu, qtid, allow_system=False)
    del emu.state.qualification_types[qtid]
    for key in [k for k, q in emu.state.qualifications.items() if q.qualification_type_id == qtid]:
        del emu.state.qualifications[key]
    for key in [
        k for k, r in emu.state.qualification_requests.items() if r.qualification_type_id == qtid
    ]:
        del emu.state.qualification_requests[key]
    return {}


@operation("ListQualificationTypes")
def list_qualification_types(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    requestable = params["MustBeRequestable"]
    owned = params.get("MustBeOwnedByCaller", False)
    query = (params.get("Query") or "").lower()
    records = list(emu.state.qualification_types.values())
    if not owned:
        records = [system_type(q) for q in reqs.SYSTEM_TYPES] + records
    if requestable:
        records = [q for q in records if q.is_requestable]
    if query:
        records = [
            q
            for q in records
            if query in q.name.lower()
            or query in q.description.lower()
            or query in (q.keywords or "").lower()
        ]
    scope = f"{requestable}|{owned}|{query}"
    return pagination.page(
        params,
        "ListQualificationTypes",
        pagination.after_in(records, lambda q: q.seq),
        lambda q: q.seq,
        render_type,
        "QualificationTypes",
        scope,
    )


def grant(emu: Emulator, qt: QualificationType, worker_id: str, value: int | None) -> Qualification:
    key = f"{qt.qualification_type_id}|{worker_id}"
    existing = emu.state.qualifications.get(key)
    q = Qualification(
        qualification_type_id=qt.qualification_type_id,
        worker_id=worker_id,
        integer_value=value,
        grant_time=emu.now,
        seq=existing.seq if existing else emu.state.next_seq(),
    )
    emu.state.qualifications[key] = q
    for rid in [
        r.qualification_request_id
        for r in emu.state.qualification_requests.values()
        if r.qualification_type_id == qt.qualification_type_id and r.worker_id == worker_id
    ]:
        del emu.state.qualification_requests[rid]
    emu.ensure_worker(worker_id)
    return q


def request_qualification(
    emu: Emulator, worker_id: str, qt: QualificationType, answer: str | None
) -> dict[str, Any]:
    """A worker asks for a qualification (optionally answering its test). Used by crowd and control."""
    if qt.system or qt.status != "Active" or not qt.is_requestable:
        raise RequestError(f"QualificationType {qt.qualification_type_id} cannot be requested.")
    key = f"{qt.qualification_type_id}|{worker_id}"
    current = emu.state.qualifications.get(key)
    if current is not None and current.status == "Granted":
        raise RequestError(f"Worker {worker_id} already has this qualification.")
    if any(
        r.qualification_type_id == qt.qualification_type_id and r.worker_id == worker_id
        for r in emu.state.qualification_requests.values()
    ):
        raise RequestError(
            f"Worker {worker_id} already has a pending request for this qualification."
        )
    last = emu.state.qualification_request_times.get(key)
    if last is not None:
        if qt.retry_delay is None:
            raise RequestError("Retries are disabled for this qualification type.")
        if emu.now < last + qt.retry_delay:
            raise RequestError("The worker must wait RetryDelayInSeconds before requesting again.")
    emu.state.qualification_request_times[key] = emu.now
    emu.ensure_worker(worker_id)
    if qt.test and qt.answer_key:
        # Tests with an answer key are scored at once and never show up as requests.
        score = score_answer_key(qt.answer_key, parse_answers(answer))
        grant(emu, qt, worker_id, score)
        return {"Granted": True, "IntegerValue": score}
    if qt.auto_granted:
        value = 1 if qt.auto_granted_value is None else qt.auto_granted_value
        grant(emu, qt, worker_id, value)
        return {"Granted": True, "IntegerValue": value}
    request = QualificationRequest(
        qualification_request_id=emu.ids.entity(),
        qualification_type_id=qt.qualification_type_id,
        worker_id=worker_id,
        submit_time=emu.now,
        seq=emu.state.next_seq(),
        test=qt.test,
        answer=answer,
    )
    emu.state.qualification_requests[request.qualification_request_id] = request
    return {"Granted": False, "QualificationRequestId": request.qualification_request_id}


@operation("AssociateQualificationWithWorker")
def associate_qualification_with_worker(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid = params["QualificationTypeId"]
    if qtid in reqs.SYSTEM_TYPES:
        raise invalid_param(f"System QualificationType {qtid} cannot be assigned by requesters.")
    qt = get_type(emu, qtid, allow_system=False)
    grant(emu, qt, params["WorkerId"], params.get("IntegerValue", 1))
    return {}


@operation("DisassociateQualificationFromWorker")
def disassociate_qualification_from_worker(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid, worker_id = params["QualificationTypeId"], params["WorkerId"]
    get_type(emu, qtid, allow_system=False)
    ck.text(params, "Reason", 1024)
    q = emu.state.qualification(qtid, worker_id)
    if q is None:
        raise _no_score(worker_id, qtid)
    if q.status != GRANTED:
        raise wrong_status(GRANTED, INVALID_QUALIFICATION_STATE)
    q.status = REVOKED
    return {}


@operation("GetQualificationScore")
def get_qualification_score(emu: Emulator, params: dict[str, Any], ctx: Context) -> dict[str, Any]:
    qtid, worker_id = params["QualificationTypeId"], params["WorkerId"]
    get_type(emu, qtid)
    q = emu.state.qualification(qtid, worker_id)
    if q is None and qtid in reqs.SYSTEM_TYPES:
        exists, value, locale = emu.worker_qualification(worker_id, qtid)
        if exists:
            q = Qualification(qtid, worker_id, value, 1104537600.0, 0, locale_value=locale)
    if q is None:
        raise _no_score(worker_id, qtid)
    if q.status != GRANTED:
        # A revoked score is not shown: MTurk answers with its status error, which clients match to
        # tell "revoked" from "never granted" (the "does not exist" answer above).
        raise wrong_status(GRANTED, INVALID_QUALIFICATION_STATE)
    return {"Qualification": render_qualification(q)}


def _no_score(worker_id: str, qtid: str) -> RequestError:
    return RequestError(
        f"You requested a Qualification that does not exist (worker {worker_id}, type {qtid}).",
        "AWS.MechanicalTurk.QualificationDoesNotExist",
    )


@operation("ListWorkersWithQualificationType")
def list_workers_with_qualification_type(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid = params["QualificationTypeId"]
    get_type(emu, qtid)
    status = params.get("Status")
    records = [
        q
        for q in emu.state.qualifications.values()
        if q.qualification_type_id == qtid and (status is None or q.status == status)
    ]
    return pagination.page(
        params,
        "ListWorkersWithQualificationType",
        pagination.after_in(records, lambda q: q.seq),
        lambda q: q.seq,
        render_qualification,
        "Qualifications",
        f"{qtid}|{status or ''}",
    )


def _render_request(r: QualificationRequest) -> dict[str, Any]:
    data: dict[str, Any] = {
        "QualificationRequestId": r.qualification_request_id,
        "QualificationTypeId": r.qualification_type_id,
        "WorkerId": r.worker_id,
        "SubmitTime": epoch(r.submit_time),
    }
    if r.test is not None:
        data["Test"] = r.test
    if r.answer is not None:
        data["Answer"] = r.answer
    return data


@operation("ListQualificationRequests")
def list_qualification_requests(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    qtid = params.get("QualificationTypeId")
    if qtid is not None:
        get_type(emu, qtid)
    records = [
        r
        for r in emu.state.qualification_requests.values()
        if qtid is None or r.qualification_type_id == qtid
    ]
    return pagination.page(
        params,
        "ListQualificationRequests",
        pagination.after_in(records, lambda r: r.seq),
        lambda r: r.seq,
        _render_request,
        "QualificationRequests",
        qtid or "",
    )


def _request(emu: Emulator, request_id: str) -> QualificationRequest:
    request = emu.state.qualification_requests.get(request_id)
    if request is None:
        raise not_found("QualificationRequest", request_id)
    return request


@operation("AcceptQualificationRequest")
def accept_qualification_request(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    request = _request(emu, params["QualificationRequestId"])
    qt = get_type(emu, request.qualification_type_id, allow_system=False)
    grant(emu, qt, request.worker_id, params.get("IntegerValue", 1))
    return {}


@operation("RejectQualificationRequest")
def reject_qualification_request(
    emu: Emulator, params: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    request = _request(emu, params["QualificationRequestId"])
    ck.text(params, "Reason", 1024)
    del emu.state.qualification_requests[request.qualification_request_id]
    return {}
