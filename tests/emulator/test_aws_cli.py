"""A real client nobody here wrote (issue 11 item 7): the AWS CLI's `aws mturk` drives the emulator
through every one of its subcommands, in a walk a lab would make (create, the crowd submits, list,
approve, bonus, block, qualify, expire, delete), and the emulator's truth (the control API) is
checked afterwards.

The CLI (PyPI's `awscli`, v1) pins an older botocore than the project's boto3, so it lives in a
virtual environment of its own, var/awscli-venv, made here on first use with pip. Only when PyPI
cannot be reached is the test skipped, saying so. Commands run through the CLI's own entry point
(tests/emulator/awscli_driver.py), one process for the whole walk; `aws --version` also runs the
installed `aws` script itself.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.helpers import QUESTION_FORM
from tests.emulator.operation_coverage import mturk_operations

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AWSCLI_VERSION = "1.46.3"  # checked against the emulator; bump deliberately
VENV = ROOT / "var" / "awscli-venv"
DRIVER = Path(__file__).with_name("awscli_driver.py")
# What pip says when it cannot reach the package index (then skip, otherwise fail loudly).
OFFLINE_MARKERS = (
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Max retries exceeded",
    # No index answered at all (with PyPI reachable, awscli has versions to list).
    "(from versions: none)",
)


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _has_awscli(venv: Path) -> bool:
    python = _venv_python(venv)
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import awscli; print(awscli.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return probe.returncode == 0 and probe.stdout.strip() == AWSCLI_VERSION


@pytest.fixture(scope="session")
def awscli_venv() -> Path:
    """var/awscli-venv with awscli installed, built once (in a temporary folder renamed into place,
    so an interrupted build is never mistaken for a finished one)."""
    if _has_awscli(VENV):
        return VENV
    building = VENV.with_name(f"awscli-venv.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(building)], check=True, timeout=300)
    install = subprocess.run(
        [
            str(_venv_python(building)),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"awscli=={AWSCLI_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if install.returncode != 0:
        shutil.rmtree(building, ignore_errors=True)
        output = install.stdout + install.stderr
        if any(marker in output for marker in OFFLINE_MARKERS):
            pytest.skip(f"PyPI is unreachable, so the AWS CLI cannot be installed: {output[-500:]}")
        raise AssertionError(f"pip could not install awscli=={AWSCLI_VERSION}:\n{output}")
    shutil.rmtree(VENV, ignore_errors=True)
    building.rename(VENV)  # the venv's python finds its packages wherever the folder is
    assert _has_awscli(VENV)
    return VENV


class AwsCli:
    """`aws mturk ...` against one emulator; each call answers (rc, parsed JSON or None, stderr)."""

    def __init__(self, venv: Path, endpoint_url: str, home: Path) -> None:
        self.endpoint_url = endpoint_url
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "AWS_ACCESS_KEY_ID": "AKIDAWSCLI",
            "AWS_SECRET_ACCESS_KEY": "awscli-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            # Nothing from a developer's own AWS set-up may leak in.
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_MAX_ATTEMPTS": "1",
            "NO_PROXY": "*",
        }
        self.ran: list[str] = []
        self.process = subprocess.Popen(
            [str(_venv_python(venv)), str(DRIVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )

    def _send(self, argv: list[str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(argv) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the AWS CLI driver died"
        return json.loads(line)

    def subcommands(self) -> list[str]:
        return json.loads(self._send(["--list-mturk-subcommands"])["stdout"])

    def call(self, subcommand: str, *args: str) -> tuple[int, Any, str]:
        self.ran.append(subcommand)
        answer = self._send(
            ["mturk", subcommand, *args, "--endpoint-url", self.endpoint_url, "--output", "json"]
        )
        out = answer["stdout"].strip()
        return answer["rc"], (json.loads(out) if out else None), answer["stderr"]

    def ok(self, subcommand: str, *args: str) -> Any:
        rc, out, err = self.call(subcommand, *args)
        assert rc == 0, f"aws mturk {subcommand} failed ({rc}): {err}"
        return out

    def fails(self, subcommand: str, *args: str) -> str:
        rc, _, err = self.call(subcommand, *args)
        assert rc != 0, f"aws mturk {subcommand} should have failed"
        return err

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def aws(awscli_venv, emu, tmp_path) -> Iterator[AwsCli]:
    cli = AwsCli(awscli_venv, emu.endpoint_url, tmp_path)
    yield cli
    cli.close()


def test_the_aws_script_itself_runs(awscli_venv):
    version = subprocess.run(
        [str(awscli_venv / "bin" / "python"), "-m", "awscli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.returncode == 0
    assert f"aws-cli/{AWSCLI_VERSION}" in version.stdout + version.stderr


def _epoch(value: float | str) -> float:
    """A timestamp as the CLI prints it: the wire's epoch number (v1's default), or ISO 8601."""
    if isinstance(value, int | float):
        return float(value)
    return dt.datetime.fromisoformat(value).timestamp()


def _crowd_submits(emu, hit_id: str, count: int) -> list[dict[str, Any]]:
    """Let the simulated crowd work (clock jumps) until `count` assignments of the HIT are in."""
    for _ in range(40):
        submitted = [
            a
            for a in emu.control.truth("assignments")["assignments"]
            if a["HITId"] == hit_id and a["AssignmentStatus"] == "Submitted"
        ]
        if len(submitted) >= count:
            return submitted
        emu.control.advance(300)
    raise AssertionError(f"the crowd submitted {len(submitted)} of {count} assignments")


def test_aws_mturk_walks_the_emulator_through_every_subcommand(aws, emu):
    subcommands = aws.subcommands()
    assert len(subcommands) == 40  # the 39 operations and botocore's alias list-hi-ts-...

    # --- account, qualification type, HIT type and HITs ---------------------------------------
    assert aws.ok("get-account-balance")["AvailableBalance"] == "10000.00"
    qtid = aws.ok(
        "create-qualification-type",
        "--name",
        "Colour vision",
        "--description",
        "Can tell colours apart",
        "--qualification-type-status",
        "Active",
    )["QualificationType"]["QualificationTypeId"]
    got = aws.ok("get-qualification-type", "--qualification-type-id", qtid)
    assert got["QualificationType"]["Name"] == "Colour vision"
    aws.ok(
        "update-qualification-type",
        "--qualification-type-id",
        qtid,
        "--description",
        "Tells colours apart under any light",
    )
    listed_types = aws.ok(
        "list-qualification-types",
        "--must-be-requestable",
        "--must-be-owned-by-caller",
        "--types-query",  # the CLI's name for Query: --query is its own output filter
        "Colour",
    )["QualificationTypes"]
    assert [q["QualificationTypeId"] for q in listed_types] == [qtid]

    hit_type = aws.ok(
        "create-hit-type",
        "--title",
        "Pick a fruit",
        "--description",
        "One question",
        "--reward",
        "0.50",
        "--assignment-duration-in-seconds",
        "600",
        "--auto-approval-delay-in-seconds",
        "86400",
    )["HITTypeId"]
    before = time.time()
    study = aws.ok(
        "create-hit",
        "--title",
        "Pick a fruit",
        "--description",
        "One question",
        "--reward",
        "0.50",
        "--assignment-duration-in-seconds",
        "600",
        "--auto-approval-delay-in-seconds",
        "86400",
        "--lifetime-in-seconds",
        "3600",
        "--max-assignments",
        "3",
        "--question",
        QUESTION_FORM,
        "--unique-request-token",
        "cli-walk-1",
    )["HIT"]
    hit_id = study["HITId"]
    assert study["HITTypeId"] == hit_type  # same properties, same HIT type
    # The CLI prints the emulator's timestamps: they agree with this machine's clock.
    created = _epoch(study["CreationTime"])
    assert before - 1 <= created <= time.time() + 1
    assert "already" in aws.fails(
        "create-hit",
        "--title",
        "Pick a fruit",
        "--description",
        "One question",
        "--reward",
        "0.50",
        "--assignment-duration-in-seconds",
        "600",
        "--lifetime-in-seconds",
        "3600",
        "--question",
        QUESTION_FORM,
        "--unique-request-token",
        "cli-walk-1",
    )
    single = aws.ok(
        "create-hit-with-hit-type",
        "--hit-type-id",
        hit_type,
        "--lifetime-in-seconds",
        "3600",
        "--max-assignments",
        "1",
        "--question",
        QUESTION_FORM,
    )["HIT"]
    assert aws.ok("get-hit", "--hit-id", hit_id)["HIT"]["HITStatus"] == "Assignable"

    notification = json.dumps(
        {
            "Destination": "lab@example.org",
            "Transport": "Email",
            "Version": "2006-05-05",
            "EventTypes": ["AssignmentSubmitted", "AssignmentApproved"],
        }
    )
    aws.ok(
        "update-notification-settings",
        "--hit-type-id",
        hit_type,
        "--notification",
        notification,
        "--active",
    )
    aws.ok(
        "send-test-event-notification",
        "--notification",
        notification,
        "--test-event-type",
        "Ping",
    )

    # --- the crowd submits; the CLI lists ---------------------------------------------------------
    emu.control.post(
        "crowd",
        {
            "workers": [
                {
                    "WorkerId": f"ACLIWORKER{i}",
                    "profile": "careful",
                    "return_rate": 0,
                    "abandon_rate": 0,
                }
                for i in range(4)
            ],
            "running": True,
        },
    )
    submitted = _crowd_submits(emu, hit_id, 3)
    emu.control.post("crowd/stop")
    # --page-size 1: the CLI follows NextToken page by page and ends on MTurk's empty page.
    listed = aws.ok("list-hits", "--page-size", "1")["HITs"]
    assert {h["HITId"] for h in listed} == {hit_id, single["HITId"]}
    reviewable = aws.ok("list-reviewable-hits")["HITs"]
    assert hit_id in {h["HITId"] for h in reviewable}
    assignments = aws.ok("list-assignments-for-hit", "--hit-id", hit_id, "--page-size", "2")[
        "Assignments"
    ]
    assert {a["AssignmentId"] for a in assignments} == {a["AssignmentId"] for a in submitted}
    assert all("<QuestionIdentifier>fruit</QuestionIdentifier>" in a["Answer"] for a in assignments)
    first, second, third = sorted(assignments, key=lambda a: a["WorkerId"])
    got = aws.ok("get-assignment", "--assignment-id", first["AssignmentId"])
    assert got["Assignment"]["AssignmentStatus"] == "Submitted" and got["HIT"]["HITId"] == hit_id

    # --- approve, reject, override, bonus ---------------------------------------------------------
    aws.ok(
        "approve-assignment",
        "--assignment-id",
        first["AssignmentId"],
        "--requester-feedback",
        "Thanks",
    )
    assert "status of: Submitted" in aws.fails(
        "approve-assignment", "--assignment-id", first["AssignmentId"]
    )
    aws.ok(
        "reject-assignment",
        "--assignment-id",
        second["AssignmentId"],
        "--requester-feedback",
        "Did not answer",
    )
    aws.ok("approve-assignment", "--assignment-id", second["AssignmentId"], "--override-rejection")
    aws.ok(
        "reject-assignment",
        "--assignment-id",
        third["AssignmentId"],
        "--requester-feedback",
        "Random answers",
    )
    aws.ok(
        "send-bonus",
        "--worker-id",
        first["WorkerId"],
        "--bonus-amount",
        "0.25",
        "--assignment-id",
        first["AssignmentId"],
        "--reason",
        "Careful work",
        "--unique-request-token",
        "cli-bonus-1",
    )
    bonuses = aws.ok("list-bonus-payments", "--hit-id", hit_id)["BonusPayments"]
    assert [(b["WorkerId"], b["BonusAmount"]) for b in bonuses] == [(first["WorkerId"], "0.25")]
    assert "not a file upload question" in aws.fails(
        "get-file-upload-url",
        "--assignment-id",
        first["AssignmentId"],
        "--question-identifier",
        "fruit",
    )
    review = aws.ok(
        "list-review-policy-results-for-hit",
        "--hit-id",
        hit_id,
        "--retrieve-actions",
        "--retrieve-results",
    )
    assert review["HITId"] == hit_id and "NextToken" not in review  # no policies: nothing to page

    # --- block --------------------------------------------------------------------------------------
    aws.ok("create-worker-block", "--worker-id", third["WorkerId"], "--reason", "Random answers")
    aws.ok("create-worker-block", "--worker-id", "ACLIAPPEAL", "--reason", "By mistake")
    aws.ok("delete-worker-block", "--worker-id", "ACLIAPPEAL", "--reason", "Appeal upheld")
    blocks = aws.ok("list-worker-blocks")["WorkerBlocks"]
    assert blocks == [{"WorkerId": third["WorkerId"], "Reason": "Random answers"}]

    # --- qualify ------------------------------------------------------------------------------------
    aws.ok(
        "associate-qualification-with-worker",
        "--qualification-type-id",
        qtid,
        "--worker-id",
        first["WorkerId"],
        "--integer-value",
        "1",
        "--send-notification",
    )
    score = aws.ok(
        "get-qualification-score",
        "--qualification-type-id",
        qtid,
        "--worker-id",
        first["WorkerId"],
    )["Qualification"]
    assert score["IntegerValue"] == 1 and score["Status"] == "Granted"
    aws.ok(
        "disassociate-qualification-from-worker",
        "--qualification-type-id",
        qtid,
        "--worker-id",
        first["WorkerId"],
        "--reason",
        "Retest",
    )
    # What research tools match to count the worker as unqualified after a revocation.
    assert "This operation can be called with a status of: Granted" in aws.fails(
        "get-qualification-score",
        "--qualification-type-id",
        qtid,
        "--worker-id",
        first["WorkerId"],
    )
    aws.ok(
        "associate-qualification-with-worker",
        "--qualification-type-id",
        qtid,
        "--worker-id",
        first["WorkerId"],
        "--integer-value",
        "2",
    )
    everyone = aws.ok("list-workers-with-qualification-type", "--qualification-type-id", qtid)
    assert [(q["WorkerId"], q["IntegerValue"]) for q in everyone["Qualifications"]] == [
        (first["WorkerId"], 2)
    ]
    for worker in ("ACLIASKS1", "ACLIASKS2"):
        emu.control.post(f"workers/{worker}/qualification-requests", {"QualificationTypeId": qtid})
    requests = aws.ok("list-qualification-requests", "--qualification-type-id", qtid)[
        "QualificationRequests"
    ]
    by_worker = {r["WorkerId"]: r["QualificationRequestId"] for r in requests}
    assert set(by_worker) == {"ACLIASKS1", "ACLIASKS2"}
    aws.ok(
        "accept-qualification-request",
        "--qualification-request-id",
        by_worker["ACLIASKS1"],
        "--integer-value",
        "5",
    )
    aws.ok(
        "reject-qualification-request",
        "--qualification-request-id",
        by_worker["ACLIASKS2"],
        "--reason",
        "Not this time",
    )
    failures = aws.ok(
        "notify-workers",
        "--subject",
        "Thank you",
        "--message-text",
        "Your answers helped.",
        "--worker-ids",
        first["WorkerId"],
        second["WorkerId"],
    )["NotifyWorkersFailureStatuses"]
    assert failures == []

    # A follow-up HIT for the qualified only: extended, moved to the study's type, then expired.
    follow_up = aws.ok(
        "create-hit",
        "--title",
        "Follow-up",
        "--description",
        "For the qualified",
        "--reward",
        "0.80",
        "--assignment-duration-in-seconds",
        "600",
        "--lifetime-in-seconds",
        "86400",
        "--max-assignments",
        "2",
        "--question",
        QUESTION_FORM,
        "--qualification-requirements",
        json.dumps([{"QualificationTypeId": qtid, "Comparator": "Exists"}]),
    )["HIT"]["HITId"]
    for alias in ("list-hits-for-qualification-type", "list-hi-ts-for-qualification-type"):
        required = aws.ok(alias, "--qualification-type-id", qtid)["HITs"]
        assert [h["HITId"] for h in required] == [follow_up]
    aws.ok(
        "create-additional-assignments-for-hit",
        "--hit-id",
        follow_up,
        "--number-of-additional-assignments",
        "2",
        "--unique-request-token",
        "cli-extend-1",
    )
    aws.ok("update-hit-type-of-hit", "--hit-id", follow_up, "--hit-type-id", hit_type)

    # --- review status, expire, delete ----------------------------------------------------------
    aws.ok("update-hit-review-status", "--hit-id", hit_id, "--no-revert")
    assert aws.ok("get-hit", "--hit-id", hit_id)["HIT"]["HITStatus"] == "Reviewing"
    aws.ok("update-hit-review-status", "--hit-id", hit_id, "--revert")
    assert "status of: Reviewable,Reviewing" in aws.fails("delete-hit", "--hit-id", follow_up)
    aws.ok(
        "update-expiration-for-hit", "--hit-id", follow_up, "--expire-at", "2020-01-01T00:00:00Z"
    )
    assert aws.ok("get-hit", "--hit-id", follow_up)["HIT"]["HITStatus"] == "Reviewable"
    aws.ok("delete-hit", "--hit-id", follow_up)
    aws.ok("delete-hit", "--hit-id", hit_id)
    aws.ok("delete-qualification-type", "--qualification-type-id", qtid)
    remaining = aws.ok("list-hits")["HITs"]
    assert [h["HITId"] for h in remaining] == [single["HITId"]]
    balance = aws.ok("get-account-balance")

    # --- every subcommand ran, and the emulator's truth is what the walk did -----------------------
    assert sorted(set(aws.ran)) == subcommands
    truth = emu.control.truth()
    # The reset before the test zeroed the counts: every MTurk operation was called by the CLI.
    assert {op for op, n in truth["call_counts"].items() if n} == mturk_operations()
    hits = {h["HITId"]: h for h in truth["hits"]}
    assert hits[hit_id]["HITStatus"] == "Disposed" and hits[follow_up]["HITStatus"] == "Disposed"
    assert hits[follow_up]["MaxAssignments"] == 4 and hits[follow_up]["HITTypeId"] == hit_type
    decided = {a["AssignmentId"]: a for a in truth["assignments"] if a["HITId"] == hit_id}
    assert decided[first["AssignmentId"]]["AssignmentStatus"] == "Approved"
    assert decided[first["AssignmentId"]]["PaidCount"] == 1
    assert decided[second["AssignmentId"]]["AssignmentStatus"] == "Approved"
    assert decided[second["AssignmentId"]]["ApproveCount"] == 1
    assert decided[third["AssignmentId"]]["AssignmentStatus"] == "Rejected"
    assert decided[third["AssignmentId"]]["PaidCount"] == 0
    assert [(b["AssignmentId"], b["BonusAmount"]) for b in truth["bonuses"]] == [
        (first["AssignmentId"], "0.25")
    ]
    assert truth["blocks"] == [{"WorkerId": third["WorkerId"], "Reason": "Random answers"}]
    assert truth["qualification_types"] == []  # deleted, with its scores and requests
    assert truth["qualifications"] == [] and truth["qualification_requests"] == []
    assert [m["WorkerId"] for m in truth["messages"]] == [first["WorkerId"], second["WorkerId"]]
    emails = emu.control.get("notifications")["emails"]
    sent = [(m["destination"], e["EventType"]) for m in emails for e in m["document"]["Events"]]
    assert ("lab@example.org", "Ping") in sent and (
        "lab@example.org",
        "AssignmentSubmitted",
    ) in sent
    # Two approvals at $0.50 + 20% and a $0.25 bonus + 20%: 10000 - 1.20 - 0.30.
    assert truth["balance"]["AvailableBalance"] == balance["AvailableBalance"] == "9998.50"
