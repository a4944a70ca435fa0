"""--state: everything survives a restart (in-process and through `python -m emulator serve`)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from emulator.testing import run_emulator
from tests.emulator.helpers import create_hit, error_of, hit_params, work

ROOT = Path(__file__).resolve().parents[2]


def test_state_survives_a_restart(tmp_path):
    path = tmp_path / "state.json"
    with run_emulator(seed=5, state_path=str(path)) as first:
        mturk = first.client()
        hit = mturk.create_hit(**hit_params(UniqueRequestToken="persist-1", MaxAssignments=2))[
            "HIT"
        ]
        assignment_id = work(first, hit["HITId"], "AW1")
        mturk.approve_assignment(AssignmentId=assignment_id)
        mturk.send_bonus(WorkerId="AW1", BonusAmount="1.00", AssignmentId=assignment_id, Reason="r")
        mturk.create_worker_block(WorkerId="ABAD", Reason="spam")
        qtid = mturk.create_qualification_type(
            Name="q", Description="d", QualificationTypeStatus="Active"
        )["QualificationType"]["QualificationTypeId"]
        mturk.associate_qualification_with_worker(
            QualificationTypeId=qtid, WorkerId="AW1", IntegerValue=3
        )
        layout = first.control.post("layouts", {"Template": "<p>${x}</p>"})["HITLayoutId"]
        clock_before = first.control.get("clock")["now"]
        first.control.post("snapshot")
    assert path.exists() and json.loads(path.read_text())["format"] == 1

    with run_emulator(seed=5, state_path=str(path)) as second:
        mturk = second.client()
        got = mturk.get_hit(HITId=hit["HITId"])["HIT"]
        assert got["NumberOfAssignmentsCompleted"] == 1
        assert (
            mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["AssignmentStatus"]
            == "Approved"
        )
        assert mturk.get_account_balance()["AvailableBalance"] == "9998.20"
        assert mturk.list_worker_blocks()["WorkerBlocks"] == [
            {"WorkerId": "ABAD", "Reason": "spam"}
        ]
        assert (
            mturk.get_qualification_score(QualificationTypeId=qtid, WorkerId="AW1")[
                "Qualification"
            ]["IntegerValue"]
            == 3
        )
        assert mturk.list_bonus_payments(HITId=hit["HITId"])["NumResults"] == 1
        assert layout in second.control.get("layouts")["layouts"]
        assert second.control.get("clock")["now"] >= clock_before
        with pytest.raises(mturk.exceptions.RequestError) as excinfo:
            mturk.create_hit(**hit_params(UniqueRequestToken="persist-1"))
        assert hit["HITId"] in error_of(excinfo)["message"]
        # Timers survive too: the remaining assignment slot still expires on the clock.
        second.control.advance(3601)
        assert mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"] == "Reviewable"
        # New ids do not collide with restored ones.
        assert create_hit(mturk)["HITId"] != hit["HITId"]


def test_a_restored_clock_is_the_wall_clock_unless_it_was_ahead(tmp_path):
    on_time, ahead = tmp_path / "on-time.json", tmp_path / "ahead.json"
    with run_emulator(seed=5, state_path=str(on_time)) as first:
        create_hit(first.client())
    with run_emulator(seed=5, state_path=str(on_time)) as second:
        assert abs(second.control.get("clock")["offset"]) < 0.01
    with run_emulator(seed=5, state_path=str(ahead)) as first:
        create_hit(first.client())
        first.control.advance(86400)
    # Its records were stamped a day ahead: the clock never goes back behind them.
    with run_emulator(seed=5, state_path=str(ahead)) as second:
        assert second.control.get("clock")["offset"] == pytest.approx(86400, abs=5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url: str, process) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise AssertionError(process.stderr.read())
        try:
            with urllib.request.urlopen(url + "/_emulator/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("emulator did not start")


def _serve(port: int, state: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--state",
            str(state),
            "--speed",
            "10",
            "--seed",
            "3",
            "--crowd",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_serve_persists_on_shutdown(tmp_path):
    port, state = _free_port(), tmp_path / "emu.json"
    url = f"http://127.0.0.1:{port}"
    process = _serve(port, state)
    try:
        _wait_up(url, process)
        mturk = boto3.client(
            "mturk",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        before = time.time()
        hit = mturk.create_hit(**hit_params())["HIT"]
        hit_id = hit["HITId"]
        # --speed 10 paces the crowd; the API's clock stays the wall clock.
        assert before - 0.001 <= hit["CreationTime"].timestamp() <= time.time() + 0.001
        clock = json.loads(urllib.request.urlopen(url + "/_emulator/clock", timeout=5).read())
        assert clock["speed"] == 1 and clock["crowd_speed"] == 10 and abs(clock["offset"]) < 0.01
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0
    assert hit_id in state.read_text()
    process = _serve(port, state)
    try:
        _wait_up(url, process)
        assert mturk.get_hit(HITId=hit_id)["HIT"]["HITId"] == hit_id
        crowd = json.loads(urllib.request.urlopen(url + "/_emulator/crowd", timeout=5).read())
        assert len(crowd["workers"]) == 2 and crowd["running"] is True
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def test_cli_speed_options_are_validated_and_explained(capsys):
    from emulator.__main__ import main

    for bad in (["--speed", "0"], ["--speed", "-2"], ["--clock-speed", "-1"]):
        with pytest.raises(SystemExit):
            main(["serve", *bad])
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "how many times faster than real people the simulated crowd works" in text
    assert "out of step with the clients' clocks" in text
