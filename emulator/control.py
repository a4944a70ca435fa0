"""The control API under /_emulator/ (JSON): truth, clock, faults, crowd, worker actions, setup.

Tests and demos drive the emulator through these routes; nothing here exists at real MTurk.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from urllib.parse import parse_qs, urlsplit

from emulator import crowd, persistence
from emulator.answer_xml import answers_to_xml, uploaded_file_answer
from emulator.operations.hits import _create, find_or_create_hit_type
from emulator.operations.qualifications import (
    get_type,
    render_qualification,
    render_type,
    request_qualification,
)
from emulator.protocol import ApiError, epoch, format_money, parse_money

if TYPE_CHECKING:
    from emulator.engine import Emulator
    from emulator.notifications import Notifier
    from emulator.state import Assignment, Worker

JSON = "application/json"


class ControlError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.payload = {"error": message, **extra}


Body: TypeAlias = dict[str, Any]
"""The request's JSON object."""
Query: TypeAlias = dict[str, str]
"""The query string, last value per name."""
RouteResult: TypeAlias = dict[str, Any] | tuple[int, str, str | bytes]
"""JSON to answer with 200, or (status, content type, body)."""
RouteHandler: TypeAlias = Callable[..., RouteResult]
"""(emulator, body, query, **named groups of the route's pattern) -> RouteResult; a route
registered with `state_path=True` also gets `state_path=` (the server's --state file or None)."""
H = TypeVar("H", bound=RouteHandler)

ROUTES: list[tuple[str, re.Pattern[str], RouteHandler, bool]] = []


def route(method: str, pattern: str, *, state_path: bool = False) -> Callable[[H], H]:
    def register(func: H) -> H:
        ROUTES.append((method, re.compile(f"^/_emulator{pattern}/?$"), func, state_path))
        return func

    return register


def handle(
    emu: Emulator,
    method: str,
    raw_path: str,
    raw_body: bytes,
    *,
    state_path: str | None = None,
) -> tuple[int, str, bytes]:
    """Answer one control request: (status, content type, body). `state_path` is where the
    server keeps its state (`--state`), for POST /_emulator/snapshot; None without one."""
    parts = urlsplit(raw_path)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    try:
        body = json.loads(raw_body) if raw_body.strip() else {}
        if not isinstance(body, dict):
            raise ControlError(400, "The body must be a JSON object.")
    except ValueError:
        return 400, JSON, json.dumps({"error": "The body is not valid JSON."}).encode()
    for route_method, pattern, func, wants_state_path in ROUTES:
        match = pattern.match(parts.path)
        if match and route_method == method:
            try:
                extra = {"state_path": state_path} if wants_state_path else {}
                result = func(emu, body, query, **match.groupdict(), **extra)
            except ControlError as exc:
                return exc.status, JSON, json.dumps(exc.payload).encode()
            except ApiError as exc:
                payload = {"error": exc.message, "TurkErrorCode": exc.turk_error_code}
                return 409, JSON, json.dumps(payload).encode()
            except (ValueError, KeyError, TypeError) as exc:
                return 400, JSON, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
            if isinstance(result, tuple):
                status, content_type, content = result
                return (
                    status,
                    content_type,
                    content if isinstance(content, bytes) else content.encode(),
                )
            return 200, JSON, json.dumps(result, default=str).encode()
    return 404, JSON, json.dumps({"error": f"No control route {method} {parts.path}."}).encode()


def _int_arg(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(400, f"{key} must be an integer.")
    return value


# --- state -------------------------------------------------------------------------------------------


@route("GET", "")
def index(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return {
        "routes": [f"{method} {pattern.pattern[1:-3]}" for method, pattern, _, _ in ROUTES],
        "endpoint_url": emu.base_url,
    }


@route("GET", "/health")
def health(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return {"ok": True, "endpoint_url": emu.base_url, "now": emu.clock.now()}


@route("POST", "/reset")
def reset(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    """A fresh emulator as the command line started it (`seed` and `balance` may differ)."""
    balance = body.get("balance")
    emu.reset(
        seed=body.get("seed"),
        balance_cents=parse_money(balance, "balance") if balance is not None else None,
    )
    return {"ok": True}


def _assignment_truth(emu: Emulator, a: Assignment) -> dict[str, Any]:
    data = emu.render_assignment(a)
    data["AssignmentStatus"] = a.status  # the internal phase, e.g. Accepted, Returned, Abandoned
    data["ApproveCount"] = a.approve_count
    data["PaidCount"] = a.paid_count
    data["PaidAmount"] = format_money(a.paid_cents)
    if a.known_answer_score is not None:
        data["KnownAnswerScore"] = a.known_answer_score
    return data


SECTIONS = (
    "clock",
    "balance",
    "hit_types",
    "hits",
    "assignments",
    "bonuses",
    "blocks",
    "qualification_types",
    "qualifications",
    "qualification_requests",
    "workers",
    "calls",
    "messages",
    "notifications",
    "layouts",
)


@route("GET", "/truth")
def truth(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    wanted = set(query["sections"].split(",")) if query.get("sections") else set(SECTIONS)
    out: dict[str, Any] = {}
    with emu.transaction(mutating=False):
        state = emu.state
        if "clock" in wanted:
            out["clock"] = _clock(emu)
        if "balance" in wanted:
            out["balance"] = {"AvailableBalance": format_money(state.balance_cents)}
        if "hit_types" in wanted:
            out["hit_types"] = [
                {
                    "HITTypeId": ht.hit_type_id,
                    "Title": ht.title,
                    "Reward": format_money(ht.reward_cents),
                    "QualificationRequirements": ht.qualification_requirements,
                    "Notification": ht.notification,
                    "NotificationActive": ht.notification_active,
                }
                for ht in state.hit_types.values()
            ]
        if "hits" in wanted:
            out["hits"] = [emu.render_hit(h) for h in state.hits.values()]
        if "assignments" in wanted:
            out["assignments"] = [_assignment_truth(emu, a) for a in state.assignments.values()]
        if "bonuses" in wanted:
            out["bonuses"] = [
                {
                    "WorkerId": b.worker_id,
                    "AssignmentId": b.assignment_id,
                    "HITId": b.hit_id,
                    "BonusAmount": format_money(b.bonus_cents),
                    "Reason": b.reason,
                    "GrantTime": epoch(b.grant_time),
                }
                for b in state.bonuses.values()
            ]
        if "blocks" in wanted:
            out["blocks"] = [
                {"WorkerId": b.worker_id, "Reason": b.reason} for b in state.blocks.values()
            ]
        if "qualification_types" in wanted:
            out["qualification_types"] = [
                render_type(q) for q in state.qualification_types.values()
            ]
        if "qualifications" in wanted:
            out["qualifications"] = [render_qualification(q) for q in state.qualifications.values()]
        if "qualification_requests" in wanted:
            out["qualification_requests"] = [
                {
                    "QualificationRequestId": r.qualification_request_id,
                    "QualificationTypeId": r.qualification_type_id,
                    "WorkerId": r.worker_id,
                    "Answer": r.answer,
                }
                for r in state.qualification_requests.values()
            ]
        if "workers" in wanted:
            out["workers"] = [_worker(w) for w in state.workers.values()]
        if "calls" in wanted:
            out["call_counts"] = dict(state.call_counts)
            out["error_counts"] = dict(state.error_counts)
        if "messages" in wanted:
            out["messages"] = list(state.messages)
        if "layouts" in wanted:
            out["layouts"] = state.layouts
        if "notifications" in wanted:
            out["events"] = list(emu.event_log)
            out["email_notifications"] = list(state.email_notifications)
    if "notifications" in wanted and emu.notifier is not None:
        out["notifier"] = emu.notifier.stats()
    return out


@route("GET", "/calls")
def calls(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.lock:
        return {
            "call_counts": dict(emu.state.call_counts),
            "error_counts": dict(emu.state.error_counts),
            "boto3_calls": dict(emu.boto3_calls),
        }


@route("POST", "/snapshot", state_path=True)
def snapshot(emu: Emulator, body: Body, query: Query, state_path: str | None) -> dict[str, Any]:
    if not state_path:
        raise ControlError(400, "The emulator was started without --state.")
    persistence.save(emu, state_path)
    return {"ok": True, "path": state_path}


@route("POST", "/balance")
def balance(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    cents = parse_money(body["AvailableBalance"], "AvailableBalance")
    with emu.transaction():
        emu.state.balance_cents = cents
    return {"AvailableBalance": format_money(cents)}


# --- clock and faults -------------------------------------------------------------------------------


def _clock(emu: Emulator) -> dict[str, Any]:
    """The API's clock against the wall clock. `offset` (seconds ahead of real time, to the
    millisecond) is 0 unless a test advanced the clock or it runs at a `speed` other than 1;
    `crowd_speed` is the simulated crowd's pace, which never moves the clock."""
    with emu.lock:
        now, real = emu.clock.reading()
        now = max(now, emu.now)  # the engine's time never goes back, even if the wall clock does
        return {
            "now": now,
            "real_now": real,
            "offset": round(now - real, 3),
            "speed": emu.clock.speed,
            "crowd_speed": emu.crowd_speed,
        }


@route("GET", "/clock")
def clock(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return _clock(emu)


@route("POST", "/clock")
def set_clock(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    """`speed`: the API clock's emulated seconds per real second (0 freezes it between advances;
    anything but 1 puts the API's timestamps out of step with the clients' clocks); `advance`."""
    if "speed" in body:
        emu.clock.set_speed(float(body["speed"]))
    if "advance" in body:
        return advance(emu, {"seconds": body["advance"]}, query)
    return _clock(emu)


@route("POST", "/clock/advance")
def advance(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    seconds = float(body.get("seconds", 0))
    if seconds < 0:
        raise ControlError(400, "seconds must be >= 0")
    with emu.lock:
        emu.clock.advance(seconds)
        with emu.transaction():
            pass
    return _clock(emu)


@route("GET", "/faults")
def faults(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return emu.faults.describe()


@route("POST", "/faults")
def set_faults(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return emu.faults.configure(body)


# --- crowd and workers ---------------------------------------------------------------------------------


def _worker(w: Worker) -> dict[str, Any]:
    return {
        "WorkerId": w.worker_id,
        "profile": w.profile,
        "accuracy": w.accuracy,
        "speed": w.speed,
        "return_rate": w.return_rate,
        "abandon_rate": w.abandon_rate,
        "locale": w.locale,
        "masters": w.masters,
        "hits_approved": w.hits_approved,
        "active": w.active,
        "current_assignment": w.current_assignment,
    }


@route("GET", "/crowd")
def crowd_info(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.lock:
        return {
            "running": emu.crowd_running,
            "speed": emu.crowd_speed,
            "workers": [_worker(w) for w in emu.state.workers.values() if w.active],
            "profiles": crowd.PROFILES,
        }


@route("POST", "/crowd")
def crowd_configure(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    speed = body.get("speed")
    if speed is not None and (
        isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0
    ):
        raise ControlError(400, "speed (the crowd's pace, times real people's) must be > 0.")
    with emu.transaction():
        if speed is not None:
            # Pauses already planned keep their times; the next ones follow the new pace.
            emu.crowd_speed = float(speed)
        added = crowd.configure(
            emu, count=_int_arg(body, "count", 0), workers=body.get("workers"), mix=body.get("mix")
        )
        if body.get("running") is True:
            crowd.start(emu)
        elif body.get("running") is False:
            crowd.stop(emu)
        return {
            "running": emu.crowd_running,
            "speed": emu.crowd_speed,
            "added": [_worker(w) for w in added],
        }


@route("POST", "/crowd/start")
def crowd_start(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.transaction():
        crowd.start(emu)
    return {"running": True}


@route("POST", "/crowd/stop")
def crowd_stop(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.transaction():
        crowd.stop(emu)
    return {"running": False}


@route("POST", "/workers")
def add_worker(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.transaction():
        spec = dict(body)
        spec.setdefault(
            "active", False
        )  # a hand-driven worker does not join the crowd unless asked
        (worker,) = crowd.configure(emu, workers=[spec])
        return _worker(worker)


@route("POST", r"/workers/(?P<worker_id>A[A-Z0-9]+)/accept")
def worker_accept(emu: Emulator, body: Body, query: Query, worker_id: str) -> dict[str, Any]:
    with emu.transaction():
        a = emu.accept(worker_id, emu.get_hit(body["HITId"]))
        return _assignment_truth(emu, a)


@route("POST", r"/workers/(?P<worker_id>A[A-Z0-9]+)/qualification-requests")
def worker_request_qualification(
    emu: Emulator, body: Body, query: Query, worker_id: str
) -> dict[str, Any]:
    with emu.transaction():
        qt = get_type(emu, body["QualificationTypeId"])
        answer = body.get("Answer")
        if answer is None and body.get("answers") is not None:
            answer = _answers_xml(body["answers"])
        return request_qualification(emu, worker_id, qt, answer)


def _answers_xml(answers: dict[str, Any]) -> str:
    return answers_to_xml(answers)


def _assignment(emu: Emulator, assignment_id: str) -> Assignment:
    a = emu.state.assignments.get(assignment_id)
    if a is None:
        raise ControlError(404, f"Assignment {assignment_id} does not exist.")
    return a


@route("POST", r"/assignments/(?P<assignment_id>[A-Z0-9]+)/submit")
def assignment_submit(
    emu: Emulator, body: Body, query: Query, assignment_id: str
) -> dict[str, Any]:
    with emu.transaction():
        a = _assignment(emu, assignment_id)
        if body.get("Answer") is not None:
            answer = body["Answer"]
        elif body.get("answers") is not None:
            answer = _answers_xml(body["answers"])
        else:
            worker = emu.ensure_worker(a.worker_id)
            answer = crowd.make_answer(emu, worker, emu.state.hits[a.hit_id])
        emu.submit(a, answer)
        return _assignment_truth(emu, a)


@route("POST", r"/assignments/(?P<assignment_id>[A-Z0-9]+)/return")
def assignment_return(
    emu: Emulator, body: Body, query: Query, assignment_id: str
) -> dict[str, Any]:
    with emu.transaction():
        a = _assignment(emu, assignment_id)
        emu.return_assignment(a)
        return _assignment_truth(emu, a)


@route("POST", r"/assignments/(?P<assignment_id>[A-Z0-9]+)/abandon")
def assignment_abandon(
    emu: Emulator, body: Body, query: Query, assignment_id: str
) -> dict[str, Any]:
    with emu.transaction():
        a = _assignment(emu, assignment_id)
        emu.abandon(a)
        return _assignment_truth(emu, a)


# --- setup: layouts, answer specs, ground truth, bulk data -------------------------------------------------


@route("POST", "/layouts")
def add_layout(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    if not isinstance(body.get("Template"), str):
        raise ControlError(400, "Template (HTML with ${name} placeholders) is required.")
    with emu.transaction():
        layout_id = body.get("HITLayoutId") or emu.ids.entity()
        if not re.fullmatch(r"[A-Z0-9]{1,64}", layout_id):
            raise ControlError(400, "HITLayoutId must match ^[A-Z0-9]+$.")
        emu.state.layouts[layout_id] = {
            "Template": body["Template"],
            "Parameters": list(body.get("Parameters") or []),
            "FrameHeight": int(body.get("FrameHeight", 0)),
        }
    return {"HITLayoutId": layout_id}


@route("GET", "/layouts")
def list_layouts(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.lock:
        return {"layouts": emu.state.layouts}


@route("POST", "/answer-specs")
def set_answer_spec(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.transaction():
        emu.get_hit_type(body["HITTypeId"])
        emu.state.answer_specs[body["HITTypeId"]] = body.get("AnswerSpec")
    return {"ok": True}


@route("POST", "/ground-truth")
def set_ground_truth(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    truth = body.get("GroundTruth")
    if not isinstance(truth, dict):
        raise ControlError(400, "GroundTruth must map question fields to values.")
    with emu.transaction():
        emu.get_hit(body["HITId"])
        emu.state.ground_truth.setdefault(body["HITId"], {}).update(truth)
    return {"ok": True}


@route("POST", "/populate")
def populate(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    """Bulk data for benchmarks and demos: HITs (optionally with submitted assignments) in one call."""
    count = _int_arg(body, "HITs", 1)
    per_hit = _int_arg(body, "AssignmentsPerHIT", 0)
    submit = bool(body.get("Submit", True))
    params = {
        "Title": body.get("Title", "Emulator bulk HIT"),
        "Description": body.get("Description", "Created by /_emulator/populate"),
        "Reward": body.get("Reward", "0.10"),
        "AssignmentDurationInSeconds": body.get("AssignmentDurationInSeconds", 3600),
        "AutoApprovalDelayInSeconds": body.get("AutoApprovalDelayInSeconds", 2592000),
        "LifetimeInSeconds": body.get("LifetimeInSeconds", 86400),
        "MaxAssignments": max(per_hit, body.get("MaxAssignments", 1)),
        "Question": body.get(
            "Question",
            '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
            '2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<html><body><form>'
            '<input name="answer"/></form></body></html>]]></HTMLContent><FrameHeight>400'
            "</FrameHeight></HTMLQuestion>",
        ),
    }
    with emu.transaction():
        hit_type = find_or_create_hit_type(emu, params)
        pool = [emu.ids.worker() for _ in range(max(per_hit, 10))]
        hit_ids = []
        for index in range(count):
            hit = emu.state.hits[_create(emu, hit_type, params, "populate")["HIT"]["HITId"]]
            hit_ids.append(hit.hit_id)
            for k in range(per_hit):
                a = emu.accept(pool[(index + k) % len(pool)], hit)
                if submit:
                    emu.submit(a, crowd.fallback_answer({"answer": f"value {index % 7}"}, True))
    return {
        "HITTypeId": hit_type.hit_type_id,
        "count": len(hit_ids),
        "first": hit_ids[:1],
        "last": hit_ids[-1:],
    }


# --- notifications and the SNS stand-in -------------------------------------------------------------------


def _notifier(emu: Emulator) -> Notifier:
    if emu.notifier is None:
        raise ControlError(503, "Notification delivery is not available in this emulator.")
    return emu.notifier


@route("GET", "/notifications")
def notifications(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    with emu.lock:
        events = list(emu.event_log)
    out: dict[str, Any] = {"events": events}
    if emu.notifier is not None:
        out["stats"] = emu.notifier.stats()
        out["deliveries"] = emu.notifier.deliveries(int(query.get("limit", 100)))
        out["emails"] = emu.notifier.emails()
    return out


@route("POST", "/notifications/drain")
def drain(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    notifier = emu.notifier
    if notifier is None:
        return {"drained": True}
    return {"drained": notifier.drain(float(body.get("timeout", 5.0)))}


@route("GET", "/sns/cert.pem")
def sns_cert(emu: Emulator, body: Body, query: Query) -> tuple[int, str, str]:
    return 200, "application/x-pem-file", _notifier(emu).cert_pem()


@route("GET", "/sns/confirm")
def sns_confirm(emu: Emulator, body: Body, query: Query) -> tuple[int, str, str]:
    token = query.get("Token")
    if not token:
        raise ControlError(400, "Token is required.")
    if not _notifier(emu).confirm(token):
        raise ControlError(404, "No pending subscription has this token.")
    xml = (
        '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        "<ConfirmSubscriptionResult><SubscriptionArn>confirmed</SubscriptionArn>"
        "</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"
    )
    return 200, "text/xml", xml


@route("GET", "/sns/unsubscribe")
def sns_unsubscribe(emu: Emulator, body: Body, query: Query) -> tuple[int, str, str]:
    arn = query.get("SubscriptionArn")
    if not arn or not _notifier(emu).unsubscribe(arn):
        raise ControlError(404, "No such subscription.")
    xml = (
        '<UnsubscribeResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
        "<ResponseMetadata/></UnsubscribeResponse>"
    )
    return 200, "text/xml", xml


@route("POST", "/sns/subscriptions")
def sns_subscribe(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return _notifier(emu).subscribe(topic_arn=body["TopicArn"], endpoint_url=body["Endpoint"])


@route("GET", "/sns/subscriptions")
def sns_subscriptions(emu: Emulator, body: Body, query: Query) -> dict[str, Any]:
    return {"Subscriptions": _notifier(emu).subscriptions(query.get("TopicArn"))}


# The emulator keeps no uploaded bytes; it serves this much at most (its stand-in content).
SERVED_UPLOAD_BYTES = 1_000_000


@route("GET", r"/files/(?P<assignment_id>[A-Z0-9]+)/(?P<question>[^/]+)")
def uploaded_file(
    emu: Emulator, body: Body, query: Query, assignment_id: str, question: str
) -> tuple[int, str, bytes]:
    """What GetFileUploadURL's URL serves: the worker's file for the question, until the URL's
    Expires time (as MTurk's signed S3 URL). The emulator's workers upload no real bytes, so the
    file is a stand-in made from its UploadedFileKey, of the answer's UploadedFileSizeInBytes (up to
    SERVED_UPLOAD_BYTES): a download can be told apart from any other and checked."""
    with emu.transaction(mutating=False):
        a = _assignment(emu, assignment_id)
        expires = query.get("Expires", "")
        if not expires.isdigit() or int(expires) < int(emu.now):
            raise ControlError(403, "Request has expired.")
        upload = uploaded_file_answer(a.answer, question)
        if upload is None:
            raise ControlError(404, f"Assignment {assignment_id} has no file for {question}.")
    key, size = upload
    seed = f"{key}\n".encode()
    length = max(0, min(size, SERVED_UPLOAD_BYTES))
    content = (seed * (length // len(seed) + 1))[:length]
    return 200, "application/octet-stream", content
