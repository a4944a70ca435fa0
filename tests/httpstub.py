"""A tiny HTTP server on 127.0.0.1 standing in for the other side of a server-side fetch: an
internal service an attacker wants read, a redirector, an oversized or a slow answer. It records
every path it was asked for, so a test can show that a fetch never reached it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send the body a byte at a time, this many seconds apart (a server that drips).
    drip_seconds: float = 0.0
    # Leave out Content-Length (the body then ends when the connection closes).
    no_length: bool = False


@dataclass
class Stub:
    url: str
    routes: dict[str, Route]
    requested: list[str]

    def route(self, path: str, **kwargs: object) -> None:
        self.routes[path] = Route(**kwargs)


def _handler(stub_routes: dict[str, Route], requested: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def _answer(self) -> None:
            requested.append(self.path)
            route = stub_routes.get(self.path.split("?", 1)[0], Route(status=404, body=b"no"))
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if not route.no_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            try:
                if route.drip_seconds:
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.drip_seconds)
                else:
                    self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer()

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._answer()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def http_stub() -> Iterator[Stub]:
    routes: dict[str, Route] = {}
    requested: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(routes, requested))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="http-stub", daemon=True)
    thread.start()
    try:
        yield Stub(
            url=f"http://127.0.0.1:{server.server_address[1]}", routes=routes, requested=requested
        )
    finally:
        server.shutdown()
        server.server_close()
