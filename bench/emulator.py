"""Emulator capacity: calls per second for a mix of MTurk operations (one client thread and eight),
boto3's own rate on the same mix (the floor the design measures against), ListHITs paging over
100,000 HITs, and GetAccountBalance on a small state and at 100,000 HITs (it must not grow with the HITs). The emulator runs as `python -m emulator serve` in its own process; the light client is
http.client with keep-alive and a SigV4-shaped Authorization header (the emulator accepts any key).
Prints one JSON line of figures last."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/mturk-requester/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)
QUESTION = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<html><body><form><input name="a"/>'
    "</form></body></html>]]></HTMLContent><FrameHeight>400</FrameHeight></HTMLQuestion>"
)


class LightClient:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def call(self, operation: str, params: dict) -> dict:
        self.conn.request(
            "POST",
            "/",
            body=json.dumps(params),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation,
                "X-Amz-Date": "20260101T000000Z",
                "Authorization": AUTH,
            },
        )
        response = self.conn.getresponse()
        payload = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"{operation}: {payload}")
        return payload


def control(port: int, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_emulator/{path}",
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def mix(hit_ids: list[str], assignment_ids: list[str], hit_type: str):
    """The operation mix, weighted like a dashboard sync plus some writes."""
    steps = []
    for i in range(20):
        hit_id = hit_ids[i % len(hit_ids)]
        steps += [
            ("GetHIT", {"HITId": hit_id}),
            ("ListAssignmentsForHIT", {"HITId": hit_id, "MaxResults": 100}),
            ("GetAssignment", {"AssignmentId": assignment_ids[i % len(assignment_ids)]}),
            ("ListHITs", {"MaxResults": 10}),
            ("ListReviewableHITs", {"MaxResults": 10}),
            ("GetAccountBalance", {}),
        ]
        if i % 4 == 0:
            steps.append(
                (
                    "CreateHITWithHITType",
                    {"HITTypeId": hit_type, "LifetimeInSeconds": 600, "Question": QUESTION},
                )
            )
    return steps


def run_light(port: int, steps, calls: int) -> float:
    client = LightClient(port)
    started = time.perf_counter()
    for i in range(calls):
        operation, params = steps[i % len(steps)]
        client.call(operation, params)
    return calls / (time.perf_counter() - started)


def run_threads(port: int, steps, calls_per_thread: int, threads: int) -> float:
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        client = LightClient(port)
        barrier.wait()
        try:
            for i in range(calls_per_thread):
                operation, params = steps[i % len(steps)]
                client.call(operation, params)
        except BaseException as exc:  # reported after the join
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return threads * calls_per_thread / elapsed


def run_boto3(port: int, steps, calls: int) -> float:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "mturk",
        region_name="us-east-1",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="bench",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    to_method = {v: k for k, v in client.meta.method_to_api_mapping.items()}
    for operation, params in steps[:10]:  # warm up botocore's model caches
        getattr(client, to_method[operation])(**params)
    started = time.perf_counter()
    for i in range(calls):
        operation, params = steps[i % len(steps)]
        getattr(client, to_method[operation])(**params)
    return calls / (time.perf_counter() - started)


def time_balance(client: LightClient, calls: int) -> float:
    """Milliseconds per GetAccountBalance call."""
    started = time.perf_counter()
    for _ in range(calls):
        client.call("GetAccountBalance", {})
    return 1000 * (time.perf_counter() - started) / calls


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--boto3-calls", type=int, default=600)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--big",
        type=int,
        default=100_000,
        help="HITs in state for the ListHITs and GetAccountBalance figures",
    )
    parser.add_argument("--balance-calls", type=int, default=200)
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emulator",
            "serve",
            "--port",
            str(port),
            "--seed",
            "1",
            "--log-level",
            "WARNING",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        for _ in range(200):
            try:
                control(port, "health")
                break
            except OSError:
                time.sleep(0.05)
        populated = control(
            port, "populate", {"HITs": 50, "AssignmentsPerHIT": 3, "MaxAssignments": 5}
        )
        client = LightClient(port)
        hit_ids = [h["HITId"] for h in client.call("ListHITs", {"MaxResults": 50})["HITs"]]
        assignment_ids = [
            a["AssignmentId"]
            for hit_id in hit_ids[:10]
            for a in client.call("ListAssignmentsForHIT", {"HITId": hit_id})["Assignments"]
        ]
        steps = mix(hit_ids, assignment_ids, populated["HITTypeId"])

        one = run_light(port, steps, args.calls)
        print(f"light client, 1 thread:  {one:8.0f} calls/s ({args.calls} calls)")
        many = run_threads(port, steps, args.calls // args.threads, args.threads)
        print(f"light client, {args.threads} threads: {many:8.0f} calls/s")
        boto = run_boto3(port, steps, args.boto3_calls)
        print(f"boto3, 1 thread:         {boto:8.0f} calls/s ({args.boto3_calls} calls)")
        balance_small_ms = time_balance(client, args.balance_calls)
        print(f"GetAccountBalance, small state: {balance_small_ms:.3f} ms/call")

        control(port, "reset", {})
        started = time.perf_counter()
        remaining = args.big
        while remaining:
            chunk = min(remaining, 20_000)
            control(port, "populate", {"HITs": chunk})
            remaining -= chunk
        populate_s = time.perf_counter() - started
        print(f"populated {args.big} HITs in {populate_s:.1f} s")
        pages, seen, token = 0, 0, None
        started = time.perf_counter()
        while True:
            params = {"MaxResults": 100}
            if token:
                params["NextToken"] = token
            page = client.call("ListHITs", params)
            pages += 1
            seen += page["NumResults"]
            token = page.get("NextToken")
            if not token:
                break
        paging_s = time.perf_counter() - started
        print(
            f"ListHITs over {seen} HITs: {pages} pages in {paging_s:.2f} s ({1000 * paging_s / pages:.2f} ms/page)"
        )
        balance_big_ms = time_balance(client, args.balance_calls)
        print(f"GetAccountBalance at {seen} HITs: {balance_big_ms:.3f} ms/call")
        figures = {
            "bench": "emulator",
            "light_calls_per_s_1_thread": round(one, 1),
            f"light_calls_per_s_{args.threads}_threads": round(many, 1),
            "boto3_calls_per_s_1_thread": round(boto, 1),
            "light_to_boto3_ratio": round(one / boto, 2),
            "list_hits_hits_in_state": seen,
            "list_hits_pages": pages,
            "list_hits_total_s": round(paging_s, 3),
            "list_hits_ms_per_page": round(1000 * paging_s / pages, 3),
            "populate_s": round(populate_s, 2),
            "balance_ms_small": round(balance_small_ms, 3),
            "balance_ms_big": round(balance_big_ms, 3),
        }
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
