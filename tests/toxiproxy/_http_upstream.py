"""A small HTTP/1.1 upstream on 127.0.0.1 (keep-alive, chunked bodies, 100-continue) for tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self) -> None:
        body = self._body()
        with self.server.lock:
            self.server.hits += 1
            self.server.seen.append((self.command, self.path, body))
        payload = json.dumps({"method": self.command, "path": self.path, "got": len(body)})
        data = (payload + " " * self.server.pad).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pad: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits = 0
        self.pad = pad
        self.seen: list[tuple[str, str, bytes]] = []

    @property
    def addr(self) -> str:
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"


@contextmanager
def http_upstream(pad: int = 0) -> Iterator[_Server]:
    """Serve JSON answers (`{"method", "path", "got"}` padded by `pad` spaces); counts hits."""
    server = _Server(pad)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
