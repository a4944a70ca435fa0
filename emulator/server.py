"""The HTTP server: MTurk's JSON 1.1 API at `/`, the control API under `/_emulator/`.

Built on http.server with HTTP/1.1 keep-alive. Each response is buffered and flushed in one write,
and TCP_NODELAY is set: otherwise every keep-alive call waits ~40 ms on a delayed ACK.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from emulator import control, persistence
from emulator.engine import Emulator
from emulator.notifications import Notifier
from emulator.operations import OPERATIONS, Context, load
from emulator.protocol import (
    CONTENT_TYPE,
    TARGET_PREFIX,
    ApiError,
    AuthError,
    ProtocolError,
    ServiceFault,
    ThrottlingError,
)
from emulator.validation import validate_input

log = logging.getLogger(__name__)

TICK_SECONDS = 0.05
SNAPSHOT_SECONDS = 5.0


def check_authorization(header: str | None) -> None:
    """Any key is accepted, but the request must carry a SigV4 Authorization header, as at MTurk."""
    if not header:
        raise AuthError("MissingAuthenticationTokenException", "Missing Authentication Token")
    if not header.startswith("AWS4-HMAC-SHA256 ") or not all(
        part in header for part in ("Credential=", "SignedHeaders=", "Signature=")
    ):
        raise AuthError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' "
            "parameters of an AWS4-HMAC-SHA256 signature.",
        )


def call_operation(
    emu: Emulator, operation: str, params: Any, request_id: str, user_agent: str = ""
) -> dict[str, Any]:
    """Validate against the model, then run the operation inside one transaction."""
    handler = OPERATIONS[operation]
    with emu.lock:
        counts = emu.state.call_counts
        counts[operation] = counts.get(operation, 0) + 1
        if "Boto3/" in user_agent or "Botocore/" in user_agent:
            # Process-wide, never reset: the test suite checks every operation is exercised by boto3.
            emu.boto3_calls[operation] = emu.boto3_calls.get(operation, 0) + 1
    try:
        validate_input(operation, params)
        with emu.transaction(mutating=not operation.startswith(("Get", "List"))):
            return handler(emu, params, Context(request_id=request_id))
    except ApiError:
        with emu.lock:
            errors = emu.state.error_counts
            errors[operation] = errors.get(operation, 0) + 1
        raise


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    app: EmulatorServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MTurkEmulator/1.0"

    def version_string(self) -> str:
        return self.server_version

    wbufsize = 1 << 16  # buffered: the whole response goes out in one write at flush
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - " + format, self.address_string(), *args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_bytes(
        self,
        status: int,
        content_type: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/_emulator"):
            self._control("POST")
        else:
            self._api()

    def do_GET(self) -> None:
        if urlsplit(self.path).path.startswith("/_emulator"):
            self._control("GET")
        else:
            body = json.dumps(
                {"service": "mturk-emulator", "api": "POST /", "control": "/_emulator/"}
            )
            self.send_bytes(200, "application/json", body.encode())

    def do_DELETE(self) -> None:
        self._control("DELETE")

    def _control(self, method: str) -> None:
        app = self.server.app
        status, content_type, body = control.handle(
            app.emulator, method, self.path, self._body(), state_path=app.state_path
        )
        self.send_bytes(status, content_type, body)

    def _api(self) -> None:
        app = self.server.app
        emu = app.emulator
        raw = self._body()
        request_id = str(uuid.uuid4())
        operation = ""
        try:
            check_authorization(self.headers.get("Authorization"))
            target = self.headers.get("X-Amz-Target", "")
            operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else ""
            if operation not in OPERATIONS:
                raise ProtocolError("UnknownOperationException", f"Unknown operation {target!r}.")
            try:
                params = json.loads(raw or b"{}")
            except ValueError:
                raise ProtocolError(
                    "SerializationException", "The request body is not valid JSON."
                ) from None
            latency, fault = emu.faults.decide(operation)
            if latency:
                time.sleep(latency)
            if fault == "throttle":
                with emu.lock:
                    emu.state.call_counts[operation] = emu.state.call_counts.get(operation, 0) + 1
                    emu.state.error_counts["Throttled"] = (
                        emu.state.error_counts.get("Throttled", 0) + 1
                    )
                raise ThrottlingError()
            if fault == "fault":
                with emu.lock:
                    emu.state.call_counts[operation] = emu.state.call_counts.get(operation, 0) + 1
                    emu.state.error_counts["ServiceFault"] = (
                        emu.state.error_counts.get("ServiceFault", 0) + 1
                    )
                raise ServiceFault(
                    "Amazon Mechanical Turk is temporarily unable to process your request. "
                    "Try your call again.",
                    "AWS.ServiceUnavailable",
                )
            result = call_operation(
                emu, operation, params, request_id, self.headers.get("User-Agent", "")
            )
            status, body = 200, result
        except ApiError as exc:
            status, body = exc.status, exc.body(emu.now)
        except Exception as exc:  # a bug must look like MTurk's ServiceFault, not a dropped socket
            log.exception("operation %s failed", operation)
            status, body = 500, ServiceFault(f"Internal error: {exc}").body(emu.now)
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_bytes(status, CONTENT_TYPE, payload, {"x-amzn-RequestId": request_id})


class EmulatorServer:
    """The emulator behind an HTTP server, plus its background ticker and snapshots."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        speed: float = 1.0,
        clock_speed: float = 1.0,
        crowd: int = 0,
        state_path: str | None = None,
        notifier: bool = True,
    ) -> None:
        """`speed`: how many times faster than real people the simulated crowd works;
        `clock_speed`: emulated seconds per real second of the API's clock (1: the wall clock)."""
        load()
        self.emulator = Emulator(seed=seed, speed=speed, clock_speed=clock_speed, crowd=crowd)
        self.state_path = state_path
        self.httpd = _HTTPServer((host, port), Handler)
        self.httpd.app = self
        bound_host, self.port = self.httpd.server_address[:2]
        # getsockname() gives a str host; the stubs also allow the bytes a caller may bind with.
        self.host = bound_host.decode() if isinstance(bound_host, bytes | bytearray) else bound_host
        self.base_url = f"http://{self.host}:{self.port}"
        self.emulator.base_url = self.base_url
        if notifier:
            self.emulator.notifier = _make_notifier(self)
        restored = persistence.load(state_path) if state_path else None
        if restored:
            persistence.restore(self.emulator, restored)
        else:
            self.emulator.start_crowd()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def endpoint_url(self) -> str:
        return self.base_url

    def start(self) -> EmulatorServer:
        for target, name in (
            (self.httpd.serve_forever, "emulator-http"),
            (self._tick, "emulator-tick"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        ticker = threading.Thread(target=self._tick, name="emulator-tick", daemon=True)
        ticker.start()
        self._threads.append(ticker)
        try:
            self.httpd.serve_forever()
        finally:
            self._shutdown_rest()

    def _tick(self) -> None:
        """Fire due timers even when nobody calls, and snapshot the state now and then."""
        emu = self.emulator
        last_snapshot = time.monotonic()
        while not self._stop.wait(TICK_SECONDS):
            try:
                due = emu.next_timer()
                if due is not None and due <= emu.clock.now():
                    with emu.transaction(mutating=False):
                        pass
                if (
                    self.state_path
                    and emu.dirty
                    and time.monotonic() - last_snapshot >= SNAPSHOT_SECONDS
                ):
                    persistence.save(emu, self.state_path)
                    last_snapshot = time.monotonic()
            except Exception:
                log.exception("emulator tick failed")

    def save(self) -> None:
        if self.state_path:
            persistence.save(self.emulator, self.state_path)

    def stop(self) -> None:
        self.httpd.shutdown()
        self._shutdown_rest()

    def _shutdown_rest(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5)
        self.httpd.server_close()
        self.save()
        if self.emulator.notifier is not None:
            self.emulator.notifier.close()


def _make_notifier(server: EmulatorServer) -> Notifier | None:
    return Notifier(
        rng=random.Random(server.emulator.seed * 31 + 7),
        cert_url=server.base_url + "/_emulator/sns/cert.pem",
        confirm_base_url=server.base_url,
        faults=server.emulator.faults,
    )
