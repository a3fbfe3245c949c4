"""The http toxic's cheap path (llhttp vouching for whole reads) hands over to h11 seamlessly."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from stormproof.chaos.toxiproxy import ToxiproxyClient
from tests.toxiproxy._http_upstream import http_upstream
from tests.toxiproxy._net import connect, echo, recv_all, serving
from tests.toxiproxy.conftest import embedded_only
from tests.toxiproxy.test_http_toxic import TOXIC, _read_responses

pytestmark = embedded_only
LONG = 200 * 1024  # more than the scout keeps a copy of (SCOUT_LIMIT)


@pytest.fixture
def padded() -> Iterator[object]:
    with http_upstream(pad=LONG) as server:
        yield server


def test_a_long_body_then_a_matching_request_on_the_same_connection(client, upstream_web):
    listen, upstream = upstream_web
    client.add_toxic("web", "http", attributes={"path": "/hit", "status": 418})
    body = bytes(range(256)) * (LONG // 256)
    with connect(listen) as sock:
        head = b"POST /long HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
        sock.sendall(head + body[:1000])
        sock.sendall(body[1000:])  # read by h11 once the scout's copy would grow past its limit
        sock.sendall(b"GET /hit HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = _read_responses(sock, [b"POST", b"GET"])
    assert [status for status, _ in answers] == [200, 418]
    assert upstream.seen == [("POST", "/long", body)]


def test_an_answer_made_up_while_a_long_answer_is_still_coming_waits_its_turn(client, padded):
    listen = client.create_proxy("web", "127.0.0.1:0", padded.addr).listen
    client.add_toxic("web", "http", attributes={"path": "/hit", "status": 418})
    with connect(listen) as sock:
        sock.sendall(b"GET /long HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(1000)  # the long answer has started: the scout is inside it
        sock.sendall(b"GET /hit HTTP/1.1\r\nHost: x\r\n\r\n")
        rest = _read_responses_after(sock, first, [b"GET", b"GET"])
    assert [status for status, _ in rest] == [200, 418]
    assert rest[0][1].startswith(b'{"method": "GET", "path": "/long"')
    assert len(rest[0][1]) > LONG


def _read_responses_after(sock: socket.socket, first: bytes, methods: list[bytes]):
    class _Replay:
        def __init__(self) -> None:
            self.pending = first

        def recv(self, size: int) -> bytes:
            if self.pending:
                data, self.pending = self.pending, b""
                return data
            return sock.recv(size)

    return _read_responses(_Replay(), methods)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 without Host"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "two Host headers"),
        (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "a blank line first"),
        (b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "two spaces after the method"),
        (b"GET / HTTP/1.1\r\nhost: a\r\nHOST: b\r\n\r\n", "two Host headers, cased otherwise"),
    ],
)
def test_what_h11_refuses_is_not_http_though_llhttp_reads_it(client, data, why):
    with serving(echo) as server:
        listen = client.create_proxy("raw", "127.0.0.1:0", server.addr).listen
        client.add_toxic("raw", "http", attributes={"path": "/never"})
        with connect(listen) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == data, why
    stats = client.toxic_stats("raw", TOXIC)
    assert (stats.not_http, stats.requests) == (1, 0), why


def test_the_path_of_an_absolute_form_target_is_matched_without_its_query(client, upstream_web):
    listen, upstream = upstream_web
    client.add_toxic("web", "http", attributes={"path": "/hit", "status": 418})
    with connect(listen) as sock:
        answers = []
        for target in (b"http://x/miss?q=/hit", b"http://x/hit?q=1"):  # one read each
            sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % target)
            answers += _read_responses(sock, [b"GET"])
    assert [status for status, _ in answers] == [200, 418]
    assert len(upstream.seen) == 1  # the answered request never reached it
    stats = client.toxic_stats("web", TOXIC)
    assert (stats.requests, stats.matched, stats.acted) == (2, 1, 1)


def test_a_request_read_while_one_is_held_back_goes_on_after_it(client, upstream_web):
    listen, upstream = upstream_web
    client.add_toxic("web", "http", attributes={"path": "/held", "mode": "slow", "delay_ms": 300})
    with connect(listen) as sock:
        sock.sendall(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.05)  # the next request comes in a read of its own, the first still held
        sock.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        answers = _read_responses(sock, [b"GET", b"GET"])
    assert [status for status, _ in answers] == [200, 200]
    assert [path for _, path, _ in upstream.seen] == ["/held", "/next"]


@pytest.fixture
def upstream_web(client: ToxiproxyClient) -> Iterator[tuple[str, object]]:
    with http_upstream() as server:
        yield client.create_proxy("web", "127.0.0.1:0", server.addr).listen, server
