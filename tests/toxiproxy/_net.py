"""Small blocking TCP servers and socket helpers for the conformance suite (127.0.0.1 only)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

Handler = Callable[[socket.socket], None]


class TcpServer:
    """A threaded TCP server on 127.0.0.1 that runs `handler` per connection."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.accepted = 0
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._conns.append(conn)
            conn.settimeout(10)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.handler(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


def echo(conn: socket.socket) -> None:
    """Echo until EOF, then close."""
    while data := conn.recv(65536):
        conn.sendall(data)


def sender(payload: bytes) -> Handler:
    """Send `payload` right away, then close."""

    def handle(conn: socket.socket) -> None:
        conn.sendall(payload)
        conn.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            while conn.recv(65536):
                pass

    return handle


def sink(received: list[bytes]) -> Handler:
    """Collect everything received into `received` (one entry per connection)."""

    def handle(conn: socket.socket) -> None:
        parts = []
        while data := conn.recv(65536):
            parts.append(data)
        received.append(b"".join(parts))

    return handle


@contextlib.contextmanager
def serving(handler: Handler) -> Iterator[TcpServer]:
    server = TcpServer(handler)
    try:
        yield server
    finally:
        server.close()


def connect(listen: str, timeout: float = 5.0) -> socket.socket:
    host, port = listen.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    parts = []
    got = 0
    while got < size:
        data = sock.recv(min(65536, size - got))
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def recv_all(sock: socket.socket) -> bytes:
    """Read until EOF."""
    parts = []
    while data := sock.recv(65536):
        parts.append(data)
    return b"".join(parts)


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    """Seconds for `payload` to come back through an echo server."""
    start = time.monotonic()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return time.monotonic() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the peer closed (EOF) or reset the connection."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
