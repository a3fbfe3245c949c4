"""Whatever bytes cross an ``http`` toxic, the proxy neither fails nor leaks a task or an fd."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from tests.toxiproxy._net import TcpServer, connect
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only

REQUEST = b"POST /a/b?c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
CHUNKED = b"PUT /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
EXPECT = b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
ANSWER_CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
UNTIL_CLOSE = b"HTTP/1.0 200 OK\r\n\r\nbody until the close"


def _stream(pieces: list[bytes]) -> st.SearchStrategy[bytes]:
    # Mostly well-formed messages (so every mode gets to act), sometimes cut or with noise.
    noise = st.binary(max_size=40)
    cut = st.tuples(st.sampled_from(pieces), st.integers(0, 60)).map(lambda p: p[0][: p[1]])
    part = st.one_of(st.sampled_from(pieces), st.sampled_from(pieces), cut, noise)
    return st.lists(part, min_size=1, max_size=4).map(b"".join)


requests_ = _stream([REQUEST, CHUNKED, EXPECT, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\r\n"])
answers = _stream([ANSWER, ANSWER_CHUNKED, CONTINUE, UNTIL_CLOSE, b"HTTP/1.1 20"])
attributes = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["status", "slow", "drip", "malformed", "truncated", "lost"]),
        "apply": st.sampled_from(["before", "after"]),
        "path": st.sampled_from(["", "/a*", "/e"]),
        "delay_ms": st.integers(0, 15),
        "drip_bytes": st.integers(1, 8),
        "bytes": st.integers(0, 5),
    }
)


class _Errors:
    """Everything the server's event loop reports as unhandled (a callback that raised)."""

    def __init__(self) -> None:
        self.records: list[str] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.records.append(f"{context.get('message')}: {context.get('exception')!r}")


class _Replier:
    """An upstream that answers each connection with the bytes set for the current example."""

    def __init__(self) -> None:
        self.answer = b""
        self.server = TcpServer(self._handle)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(0.5)
        with contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(self.answer)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(scope="module")
def rig() -> Iterator[tuple[EmbeddedToxiproxy, ToxiproxyClient, _Replier, _Errors]]:
    errors = _Errors()
    replier = _Replier()
    with EmbeddedToxiproxy(seed=7) as server, ToxiproxyClient(server.url) as api:
        loop = server._loop  # white-box: the loop's exception handler sees every failed callback
        assert loop is not None
        loop.call_soon_threadsafe(loop.set_exception_handler, errors)
        api.proxies()  # the API's keep-alive connection is part of the baseline
        yield server, api, replier, errors
    replier.server.close()


def _exchange(listen: str, data: bytes, splits: list[int]) -> None:
    with contextlib.suppress(OSError), connect(listen, timeout=1.0) as sock:
        start = 0
        for cut in [*sorted(splits), len(data)]:
            if cut > start:
                sock.sendall(data[start:cut])
                start = cut
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and sock.recv(65536):
            pass


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    request=requests_,
    answer=answers,
    attrs=attributes,
    toxicity=st.sampled_from([0.0, 0.5, 1.0]),
    splits=st.lists(st.integers(0, 200), max_size=4),
)
def test_any_bytes_through_an_http_toxic(rig, request, answer, attrs, toxicity, splits):
    server, api, replier, errors = rig
    before_fds, before = _open_fds(), server.stats()
    replier.answer = answer
    listen = api.create_proxy("fuzz", "127.0.0.1:0", replier.server.addr).listen
    api.add_toxic("fuzz", "http", toxicity=toxicity, attributes=attrs)
    api.add_toxic("fuzz", "latency", attributes={"latency": 1})
    _exchange(listen, request, splits)
    api.delete_proxy("fuzz")
    deadline = time.monotonic() + 3
    while (server.stats().connections or server.stats().tasks > before.tasks) or (
        _open_fds() > before_fds
    ):
        assert time.monotonic() < deadline, (server.stats(), _open_fds(), before_fds)
        time.sleep(0.02)
    assert not errors.records, errors.records[0]


MODES = ["status", "slow", "drip", "malformed", "truncated", "lost"]


def _settle(server: EmbeddedToxiproxy, before_fds: int, tasks: int) -> None:
    deadline = time.monotonic() + 3
    while server.stats().connections or server.stats().tasks > tasks or _open_fds() > before_fds:
        assert time.monotonic() < deadline, (server.stats(), _open_fds(), before_fds)
        time.sleep(0.02)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_acts_on_every_framing_without_failing(rig, mode):
    # The random search above mostly meets noise; this walks every mode over every framing, so
    # each code path runs at least once (and `acted` proves it did).
    server, api, replier, errors = rig
    for apply in ("before", "after"):
        for request in (REQUEST, CHUNKED, EXPECT):
            for answer in (ANSWER, ANSWER_CHUNKED, CONTINUE + ANSWER, UNTIL_CLOSE):
                before_fds, tasks = _open_fds(), server.stats().tasks
                replier.answer = answer
                listen = api.create_proxy("matrix", "127.0.0.1:0", replier.server.addr).listen
                attrs = {"mode": mode, "apply": apply, "delay_ms": 5, "drip_bytes": 3}
                api.add_toxic("matrix", "http", attributes=attrs)
                _exchange(listen, request, [len(request) // 2])
                stats = api.toxic_stats("matrix", "http_downstream")
                api.delete_proxy("matrix")
                _settle(server, before_fds, tasks)
                assert not errors.records, errors.records[0]
                assert (stats.requests, stats.matched) == (1, 1), (apply, request, answer)
                assert stats.acted == 1, (apply, request, answer, stats)
