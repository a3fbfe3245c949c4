"""The http toxic writes an answer's read on first and frames it later (the lag): on real
sockets, with the test holding both the client's and the upstream's end, every read boundary
is the test's own, so each case runs the same way every time."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import h11
import pytest

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from tests.toxiproxy._net import connect, recv_all, recv_exactly
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only
TOXIC = "http_downstream"


def get(path: str, method: str = "GET", extra: bytes = b"") -> bytes:
    return b"%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (method.encode(), path.encode(), extra)


def ok(body: bytes = b"ok", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


class _Errors:
    """What the server's event loop reports as unhandled (a callback that raised)."""

    def __init__(self) -> None:
        self.records: list[str] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.records.append(f"{context.get('message')}: {context.get('exception')!r}")


@pytest.fixture(scope="module")
def rig() -> Iterator[tuple[ToxiproxyClient, _Errors]]:
    errors = _Errors()
    with EmbeddedToxiproxy(seed=3) as server, ToxiproxyClient(server.url) as api:
        loop = server._loop  # white-box: the loop's exception handler sees every failed callback
        assert loop is not None
        loop.call_soon_threadsafe(loop.set_exception_handler, errors)
        yield api, errors


class Wire:
    """One proxied connection: the client's socket and the upstream's accepted socket."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.c, self.u = client, upstream
        self.pending = b""  # bytes the client read past the last answer it parsed

    def request(self, data: bytes) -> None:
        """The client sends `data`; the upstream gets it (so the proxy read it, as one read
        unless the proxy's reads split it)."""
        self.c.sendall(data)
        assert recv_exactly(self.u, len(data)) == data

    def answer(self, data: bytes) -> None:
        """The upstream sends `data`; the client gets it, untouched."""
        self.u.sendall(data)
        self.client_gets(data)

    def client_gets(self, data: bytes) -> None:
        got = self.pending[: len(data)]
        self.pending = self.pending[len(got) :]
        got += recv_exactly(self.c, len(data) - len(got))
        assert got == data

    def response(self, method: bytes = b"GET") -> tuple[int, dict[bytes, bytes], bytes]:
        """The next answer the client gets, parsed: status, headers, body."""
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        if self.pending:
            conn.receive_data(self.pending)
        status, headers, body = 0, {}, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = self.c.recv(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                status, headers = event.status_code, dict(event.headers)
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        self.pending = conn.trailing_data[0]
        return status, headers, body

    def client_closed(self) -> bool:
        """Whether the client's socket reads EOF (or a reset) with nothing before it."""
        if self.pending:
            return False
        try:
            return self.c.recv(65536) == b""
        except ConnectionResetError:
            return True


@pytest.fixture(params=["alone", "chained"])
def wire(rig, request) -> Iterator[Any]:
    # alone: reads no rule acts on skip the chain (the shortcut); chained: another toxic after
    # the http toxic on both streams, so every read goes through the chain.
    api, errors = rig
    opened: list[socket.socket] = []
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    opened.append(listener)
    upstream = f"127.0.0.1:{listener.getsockname()[1]}"
    listen = api.create_proxy("lag", "127.0.0.1:0", upstream).listen

    def open_wire(attributes: dict[str, Any]) -> Wire:
        api.add_toxic("lag", "http", attributes=attributes)
        if request.param == "chained":
            for stream in ("upstream", "downstream"):
                api.add_toxic("lag", "noop", stream=stream)
        client = connect(listen)
        opened.append(client)
        up, _ = listener.accept()
        up.settimeout(5)
        up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        opened.append(up)
        return Wire(client, up)

    errors.records.clear()
    try:
        yield open_wire
    finally:
        for sock in opened:
            with contextlib.suppress(OSError):
                sock.close()
        api.delete_proxy("lag")
    assert not errors.records, errors.records[0]


def _until(condition: Any, timeout_s: float = 5.0) -> bool:
    """Whether `condition()` came true within `timeout_s` (polled every 10 ms)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def stats(rig) -> tuple[int, int, int, int]:
    s = rig[0].toxic_stats("lag", TOXIC)
    return s.requests, s.matched, s.acted, s.not_http


# -- made-up answers wait for every upstream answer that lags ---------------------------------


def test_a_made_up_answer_comes_after_every_lagging_answer(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    for i in range(3):
        w.request(get(f"/p{i}"))
    for i in range(3):
        w.answer(ok(b"answer %d" % i))  # each its own read, none framed yet
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    w.request(get("/after"))  # the connection goes on
    w.answer(ok(b"after"))
    assert stats(rig) == (5, 1, 1, 0)


@pytest.mark.parametrize("cut", [40, 60], ids=["in-its-head", "in-its-body"])
def test_a_made_up_answer_waits_for_the_rest_of_a_lagging_answer(rig, wire, cut):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.request(get("/p1"))
    w.answer(ok(b"first"))
    answer = ok(b"x" * 1000)  # its head is 41 bytes
    w.answer(answer[:cut])  # the second answer has begun, lagging
    w.c.sendall(get("/hit"))
    w.answer(answer[cut:])  # only then does the made-up one go
    assert w.response()[0] == 503
    assert stats(rig) == (3, 1, 1, 0)


def test_a_made_up_answer_waits_for_answers_yet_to_come(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    for i in range(3):
        w.request(get(f"/p{i}"))
    w.answer(ok(b"answer 0"))  # lagging; the two others are still owed
    w.c.sendall(get("/hit"))
    w.answer(ok(b"answer 1"))
    w.answer(ok(b"answer 2"))
    assert w.response()[0] == 503
    assert stats(rig) == (4, 1, 1, 0)


def test_made_up_answers_between_answers_keep_their_places(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.c.sendall(get("/hit"))
    w.request(get("/p1"))
    w.c.sendall(get("/hit"))
    w.request(get("/p2"))  # the upstream got the plain ones only
    w.answer(ok(b"answer 0"))
    assert w.response()[0] == 503
    w.answer(ok(b"answer 1"))
    assert w.response()[0] == 503
    w.answer(ok(b"answer 2"))
    assert stats(rig) == (5, 2, 2, 0)


# -- an upstream that does not answer in HTTP while its reads lag ----------------------------

GARBAGE = b"\x00\x01\x02 this is not HTTP \xff\r\n\r\n"


@pytest.mark.parametrize("extra", [b"", b"Expect: 100-continue\r\nContent-Length: 2\r\n"])
def test_a_garbage_answer_then_a_matching_request_passes_it_untouched(rig, wire, extra):
    # The connection stopped speaking HTTP before the matching request came: as if the garbage
    # had been read at once, the request goes on untouched and nothing is made up.
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(GARBAGE)
    w.request(get("/hit", "POST" if extra else "GET", extra))
    w.answer(b"more bytes, untouched")
    w.request(get("/hit"))
    assert stats(rig) == (1, 0, 0, 1)


def test_a_garbage_answer_then_a_plain_request_passes_it_untouched(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(GARBAGE)
    w.request(get("/p1"))
    w.answer(b"more bytes, untouched")
    w.request(get("/hit"))
    assert stats(rig) == (1, 0, 0, 1)


def test_a_garbage_answer_then_the_end_is_not_http(rig, wire):
    # Nothing came after the garbage to have it framed: the end of the stream does.
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(GARBAGE)
    w.u.close()
    assert w.client_closed()
    assert stats(rig) == (1, 0, 0, 1)


def test_bytes_after_a_lagging_answer_then_a_matching_request(rig, wire):
    # Bytes the upstream sends when no answer is owed go on unread, whatever they are.
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(ok())
    w.answer(GARBAGE)
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    w.request(get("/p1"))
    w.answer(ok(b"p1"))
    assert stats(rig) == (3, 1, 1, 0)


def test_bytes_after_a_lagging_answer_in_its_read_then_a_matching_request(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(ok() + GARBAGE)
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    w.request(get("/p1"))
    w.answer(ok(b"p1"))
    assert stats(rig) == (3, 1, 1, 0)


def test_bytes_after_a_lagging_answer_then_a_plain_request_then_a_matching_one(rig, wire):
    # Those bytes are not the answer to the request that went on after them.
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(ok())
    w.answer(GARBAGE)
    w.request(get("/p1"))
    w.answer(ok(b"p1"))
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    assert stats(rig) == (3, 1, 1, 0)


# -- a matching request's answer acted on after plain answers that lag -------------------------


def _lagging(w: Wire, count: int = 3) -> None:
    """`count` plain requests, then their answers, each a read of its own, none framed yet."""
    for i in range(count):
        w.request(get(f"/p{i}"))
    for i in range(count):
        w.answer(ok(b"answer %d" % i))


def test_status_after_replaces_the_answer_after_those_that_lag(rig, wire):
    w = wire({"path": "/hit", "status": 502, "apply": "after"})
    _lagging(w)
    w.request(get("/hit"))
    w.u.sendall(ok(b"the real one"))
    status, _, body = w.response()
    assert status == 502
    assert body != b"the real one"
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


def test_slow_after_holds_the_answer_after_those_that_lag(rig, wire):
    w = wire({"path": "/hit", "mode": "slow", "apply": "after", "delay_ms": 50})
    _lagging(w)
    w.request(get("/hit"))
    started = time.monotonic()
    w.answer(ok(b"late"))
    assert time.monotonic() - started >= 0.05
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


def test_slow_before_holds_the_request_after_answers_that_lag(rig, wire):
    w = wire({"path": "/hit", "mode": "slow", "apply": "before", "delay_ms": 50})
    _lagging(w)
    started = time.monotonic()
    w.request(get("/hit"))
    assert time.monotonic() - started >= 0.05
    w.answer(ok(b"late"))
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


def test_drip_after_paces_the_answer_after_those_that_lag(rig, wire):
    w = wire({"path": "/hit", "mode": "drip", "apply": "after", "delay_ms": 1, "drip_bytes": 7})
    _lagging(w)
    w.request(get("/hit"))
    w.answer(ok(b"dripped " * 4))  # every byte comes, in order
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


def test_malformed_after_breaks_the_body_after_those_that_lag(rig, wire):
    w = wire({"path": "/hit", "mode": "malformed", "apply": "after"})
    _lagging(w)
    w.request(get("/hit"))
    w.u.sendall(ok(b'{"fine": true}', b"Content-Type: application/json\r\n"))
    status, headers, body = w.response()
    assert (status, headers[b"content-type"]) == (200, b"application/json")
    assert b"malformed by a stormproof http toxic" in body
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


def test_truncated_after_cuts_the_answer_after_those_that_lag(rig, wire):
    w = wire({"path": "/hit", "mode": "truncated", "apply": "after", "bytes": 3})
    _lagging(w)
    w.request(get("/hit"))
    answer = ok(b"0123456789")
    w.u.sendall(answer)
    w.client_gets(answer[: len(answer) - 7])  # the head and 3 bytes of the body, then the close
    assert w.client_closed()
    assert stats(rig) == (4, 1, 1, 0)


def test_lost_after_closes_before_the_answer_after_those_that_lag(rig, wire):
    w = wire({"path": "/hit", "mode": "lost", "apply": "after"})
    _lagging(w)
    w.request(get("/hit"))
    w.u.sendall(ok(b"never seen"))
    assert w.client_closed()
    assert stats(rig) == (4, 1, 1, 0)


@pytest.mark.parametrize("mode", ["status", "malformed", "truncated"])
def test_answered_before_after_answers_that_lag(rig, wire, mode):
    w = wire({"path": "/hit", "mode": mode, "apply": "before"})
    _lagging(w)
    w.c.sendall(get("/hit"))
    if mode == "truncated":  # half its body, then the close
        assert recv_all(w.c).startswith(b"HTTP/1.1 200 OK\r\n")
        assert stats(rig) == (4, 1, 1, 0)
        return
    assert w.response()[0] == (503 if mode == "status" else 200)
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


def test_answers_that_lag_come_through_a_request_read_by_h11(rig, wire):
    # Two requests in one read: h11 reads them; their answers lag behind the next decision.
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0") + get("/p1"))
    w.answer(ok(b"p0"))
    w.answer(ok(b"p1"))
    w.request(get("/p2") + get("/p3"))
    w.answer(ok(b"p2"))
    w.answer(ok(b"p3"))
    w.c.sendall(get("/p4") + get("/hit"))
    assert recv_exactly(w.u, len(get("/p4"))) == get("/p4")
    w.u.sendall(ok(b"p4"))
    assert w.response()[2] == b"p4"
    assert w.response()[0] == 503
    assert stats(rig) == (6, 1, 1, 0)


# -- long answers, HEAD, 100-continue ---------------------------------------------------------

PIECE = 2048


@pytest.mark.parametrize("hit_at", [None, 20, 36], ids=["after-it", "at-read-20", "at-read-36"])
def test_an_answer_in_more_than_32_reads_and_64_kib(rig, wire, hit_at):
    # The upstream drips one answer in 40 reads of 2 KiB (80 KiB); the made-up answer to a
    # matching request, whenever it comes, follows it and the next one.
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/long"))
    w.request(get("/short"))
    body = bytes(range(256)) * (40 * PIECE // 256)
    w.answer(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body))
    for i in range(40):
        if i == hit_at:
            w.c.sendall(get("/hit"))
        w.answer(body[i * PIECE : (i + 1) * PIECE])  # each its own read
    if hit_at is None:
        w.answer(ok(b"short"))
        w.c.sendall(get("/hit"))
    else:
        w.u.sendall(ok(b"short"))
        assert w.response()[2] == b"short"
    assert w.response()[0] == 503
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (4, 1, 1, 0)


def test_a_chunked_answer_in_more_than_32_reads(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/long"))
    w.answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for i in range(40):
        w.answer(b"%x\r\n%s\r\n" % (100 + i, b"y" * (100 + i)))
    w.answer(b"0\r\n\r\n")
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    assert stats(rig) == (2, 1, 1, 0)


def test_a_head_answer_among_answers_that_lag_has_no_body(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    first = ok(b"0123456789")
    w.answer(first[:45])  # lagging, mid-body, when the HEAD request goes on
    w.request(get("/h", "HEAD"))
    w.request(get("/p2"))
    w.answer(first[45:])
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"  # no body follows
    w.answer(head_answer)
    w.answer(ok(b"p2"))
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503  # right after them: the HEAD answer took no bytes of p2's
    assert stats(rig) == (4, 1, 1, 0)


def test_head_answers_then_answers_that_lag(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/h", "HEAD"))
    w.answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    for i in range(3):
        w.request(get(f"/p{i}"))
    for i in range(3):
        w.answer(ok(b"answer %d" % i))
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    assert stats(rig) == (5, 1, 1, 0)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
EXPECTING = b"Expect: 100-continue\r\nContent-Length: 3\r\n"


@pytest.mark.parametrize("together", [False, True], ids=["apart", "in-one-read"])
def test_100_continue_then_the_answer_lag(rig, wire, together):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/e", "POST", EXPECTING))
    if together:
        w.request(b"abc")
        w.answer(CONTINUE + ok(b"done"))
    else:
        w.answer(CONTINUE)  # lagging: the body goes on after it
        w.request(b"abc")
        w.answer(ok(b"done"))
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 503
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (3, 1, 1, 0)


def test_100_continue_lagging_then_the_body_and_a_matching_request_in_one_read(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/e", "POST", EXPECTING))
    w.answer(CONTINUE)  # lagging
    w.c.sendall(b"abc" + get("/hit"))  # h11 reads both: the body goes on, /hit is answered
    assert recv_exactly(w.u, 3) == b"abc"
    w.u.sendall(ok(b"done"))
    assert w.response(b"POST")[2] == b"done"
    assert w.response()[0] == 503
    assert stats(rig) == (2, 1, 1, 0)


def test_a_matching_request_waiting_for_100_continue_after_answers_that_lag(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    _lagging(w)
    w.c.sendall(get("/hit", "POST", EXPECTING))  # answered at once, and the connection closed
    status, headers, _ = w.response(b"POST")
    assert (status, headers[b"connection"]) == (503, b"close")
    assert w.client_closed()
    assert stats(rig) == (4, 1, 1, 0)


# -- the upstream closing, the toxic changing, two Host fields --------------------------------


def test_the_upstream_closing_mid_answer_while_it_lags(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.request(get("/p1"))
    w.answer(ok(b"p0"))
    w.answer(ok(b"0123456789")[:45])
    w.u.close()
    assert w.client_closed()  # the cut answer went on as it came, then the end
    assert stats(rig) == (2, 0, 0, 0)


def test_the_upstream_closing_mid_answer_with_a_made_up_answer_waiting(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.answer(ok(b"0123456789")[:45])
    w.c.sendall(get("/hit"))
    # The upstream closes only once the toxic decided on /hit: the two sockets' events race.
    assert _until(lambda: stats(rig) == (2, 1, 1, 0)), stats(rig)
    # The made-up answer has no place once the answer before it is cut: the stream ends (the
    # toxic counts it acted: it decided to).
    w.u.close()
    assert w.client_closed()
    assert stats(rig) == (2, 1, 1, 0)


def test_the_toxic_removed_while_answers_lag(rig, wire):
    w = wire({"path": "/hit", "status": 503})
    w.request(get("/p0"))
    w.request(get("/p1"))
    w.answer(ok(b"p0"))
    w.answer(ok(b"0123456789")[:45])
    rig[0].remove_toxic("lag", TOXIC)
    w.answer(ok(b"0123456789")[45:])
    w.request(get("/hit"))  # nothing acts on it now
    w.answer(ok(b"hit"))


def test_the_toxic_updated_while_answers_lag(rig, wire):
    w = wire({"path": "/never", "status": 503})
    _lagging(w)
    rig[0].update_toxic("lag", TOXIC, attributes={"path": "/hit", "status": 418})
    w.c.sendall(get("/hit"))
    assert w.response()[0] == 418
    w.request(get("/next"))
    w.answer(ok(b"next"))
    assert stats(rig) == (5, 1, 1, 0)


TWO_HOSTS = b"GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"


@pytest.mark.parametrize("first", [True, False], ids=["first", "after-one"])
def test_two_host_fields_then_more_requests_pass_untouched(rig, wire, first):
    w = wire({"path": "/hit", "status": 503})
    if not first:
        w.request(get("/p0"))
        w.answer(ok(b"0123456789")[:45])  # lagging
    w.request(TWO_HOSTS)
    w.answer(b"whatever the upstream says")
    w.request(get("/hit"))  # untouched: the connection is not HTTP to the toxic any more
    w.answer(ok(b"hit"))
    assert stats(rig) == ((0, 0, 0, 1) if first else (1, 0, 0, 0))
