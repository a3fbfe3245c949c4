"""A tiny threaded HTTP/1.1 server on 127.0.0.1 whose answers tests script byte by byte."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request, socket.socket], bool]
"""Writes the answer to the socket; returns whether to keep the connection open."""


def json_answer(status: int, payload: object, extra: str = "") -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def drip(sock: socket.socket, data: bytes, interval: float, max_s: float = 10.0) -> None:
    """Send ``data`` one byte per ``interval`` (stops when the peer goes or after max_s)."""
    end = time.monotonic() + max_s
    for i in range(len(data)):
        if time.monotonic() > end:
            return
        try:
            sock.sendall(data[i : i + 1])
        except OSError:
            return
        time.sleep(interval)


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    max_in_flight: int = 0
    connections: int = 0
    requests: list[Request] = field(default_factory=list)

    def enter(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1


def _read_request(rfile) -> Request | None:
    line = rfile.readline(65536)
    if not line or not line.strip():
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    for _ in range(100):
        raw = rfile.readline(65536)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = rfile.read(length) if length else b""
    return Request(method, path, headers, body)


class LocalServer:
    """Serve ``handler`` on 127.0.0.1 at a free port until closed."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stats = Stats()
        outer = self

        class _Conn(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                with outer.stats.lock:
                    outer.stats.connections += 1
                for _ in range(10_000):
                    try:
                        request = _read_request(self.rfile)
                    except OSError:
                        return
                    if request is None:
                        return
                    outer.stats.enter(request)
                    try:
                        keep = outer.handler(request, self.connection)
                    except OSError:
                        return
                    finally:
                        outer.stats.leave()
                    if not keep:
                        return

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self._server = _Server(("127.0.0.1", 0), _Conn)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
