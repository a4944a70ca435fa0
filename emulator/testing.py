"""Running the emulator in-process (port 0) for tests, with a small control-API client."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from emulator.server import EmulatorServer

if TYPE_CHECKING:
    from mypy_boto3_mturk import MTurkClient  # stub-only package (dev extras)


class ControlError(Exception):
    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload


class ControlClient:
    """JSON client for /_emulator/ routes. Not thread-safe (one keep-alive connection)."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if not parts.hostname:
            raise ValueError(f"not an http://host:port URL: {base_url!r}")
        self.host, self.port = parts.hostname, parts.port
        self._conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self._conn.request(
                    method,
                    "/_emulator/" + path.lstrip("/"),
                    body=data,
                    headers={"Content-Type": "application/json"},
                )
                response = self._conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt:
                    raise
        content_type = response.getheader("Content-Type", "")
        payload: Any = json.loads(raw) if "json" in content_type else raw.decode()
        if response.status >= 400:
            raise ControlError(response.status, payload)
        return payload

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body if body is not None else {})

    # conveniences for the common routes
    def reset(self, **body: Any) -> Any:
        return self.post("reset", body)

    def truth(self, *sections: str) -> dict[str, Any]:
        return self.get("truth" + (f"?sections={','.join(sections)}" if sections else ""))

    def advance(self, seconds: float) -> Any:
        return self.post("clock/advance", {"seconds": seconds})

    def set_faults(self, **settings: Any) -> Any:
        return self.post("faults", settings)

    def add_worker(self, **spec: Any) -> dict[str, Any]:
        return self.post("workers", spec)

    def accept(self, worker_id: str, hit_id: str) -> dict[str, Any]:
        return self.post(f"workers/{worker_id}/accept", {"HITId": hit_id})

    def submit(self, assignment_id: str, answers: dict[str, Any] | None = None, **body: Any) -> Any:
        if answers is not None:
            body["answers"] = answers
        return self.post(f"assignments/{assignment_id}/submit", body)

    def return_assignment(self, assignment_id: str) -> Any:
        return self.post(f"assignments/{assignment_id}/return")

    def abandon(self, assignment_id: str) -> Any:
        return self.post(f"assignments/{assignment_id}/abandon")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class RunningEmulator:
    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.emulator = server.emulator
        self.endpoint_url = server.base_url
        self.control = ControlClient(server.base_url)

    def client(self, **config: Any) -> MTurkClient:
        """A real boto3 MTurk client pointed at this emulator (any credentials work)."""
        import boto3
        from botocore.config import Config

        options: dict[str, Any] = {"retries": {"mode": "standard", "total_max_attempts": 1}}
        options.update(config)
        return boto3.client(
            "mturk",
            region_name="us-east-1",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="AKIDEMULATOR",
            aws_secret_access_key="emulator-secret",
            config=Config(**options),
        )


@contextmanager
def run_emulator(
    *,
    crowd: int = 0,
    speed: float = 1.0,
    clock_speed: float = 1.0,
    seed: int = 0,
    state_path: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    notifier: bool = True,
) -> Iterator[RunningEmulator]:
    """Start the emulator on a free port in this process; stop it (and snapshot) on exit.

    `speed` is the simulated crowd's pace; `clock_speed` the API clock's (1: the wall clock; 0
    freezes it between explicit advances, for deterministic crowd runs)."""
    server = EmulatorServer(
        host=host,
        port=port,
        seed=seed,
        speed=speed,
        clock_speed=clock_speed,
        crowd=crowd,
        state_path=state_path,
        notifier=notifier,
    ).start()
    running = RunningEmulator(server)
    try:
        yield running
    finally:
        running.control.close()
        server.stop()
