"""The http toxic's shortcut, which writes a read no rule matches straight to the destination,
never overtakes bytes the link still holds."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from stormproof.chaos.toxiproxy._connection import Side
from stormproof.chaos.toxiproxy._link import Link
from stormproof.chaos.toxiproxy._toxics import KINDS
from stormproof.chaos.toxiproxy._toxics.http import HttpWitness


class _Transport:
    """Records writes; `backlog` is what it says it has yet to send."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.backlog = 0

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.backlog

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _connection(
    loop: asyncio.AbstractEventLoop, rule: dict[str, object]
) -> tuple[Side, Side, HttpWitness]:
    """A connection's two links with an http toxic of `rule`: the client's and upstream's side."""
    proxy = SimpleNamespace(metrics=None, name="web", listen="127.0.0.1:1", upstream="127.0.0.1:2")
    conn = SimpleNamespace(proxy=proxy, up=None, down=None)
    client, upstream = Side(None), Side(None)
    client.transport, upstream.transport = _Transport(), _Transport()  # type: ignore[assignment]
    conn.up = Link(conn, "upstream", client, upstream, loop)  # type: ignore[arg-type]
    conn.down = Link(conn, "downstream", upstream, client, loop)  # type: ignore[arg-type]
    client.link_in, upstream.link_in = conn.up, conn.down
    kind, witness = KINDS["http"], HttpWitness()
    attrs = kind.parse(rule, None) if kind.parse else {}
    for link in (conn.up, conn.down):
        link.add_stage(kind, "http", dict(attrs), 1.0, random.Random(1), witness=witness)
    assert conn.up.shortcut is not None
    return client, upstream, witness


def _request_side(loop: asyncio.AbstractEventLoop) -> tuple[Side, _Transport, HttpWitness]:
    """A connection's two links with an http toxic matching nothing; the client's socket."""
    client, upstream, witness = _connection(loop, {"path": "/never"})
    return client, upstream.transport, witness  # type: ignore[return-value]


def test_a_read_the_scout_vouches_for_queues_behind_a_write_joined_to_a_backlog(loop):
    client, upstream, witness = _request_side(loop)
    upstream.backlog = 1  # the upstream socket has bytes yet to send: chain writes are joined
    first = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    second = b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    client.data_received(first[:20])  # a head split across reads: h11 reads it, in the chain
    client.data_received(first[20:])
    client.data_received(second)  # vouched for by the scout, in the same turn of the loop
    loop.run_until_complete(asyncio.sleep(0))
    assert b"".join(upstream.written) == first + second
    assert witness.requests == 2


def test_with_nothing_held_a_vouched_read_is_written_as_it_came(loop):
    client, upstream, witness = _request_side(loop)
    request = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    client.data_received(request)
    assert upstream.written == [request]  # at once, without a turn of the loop
    assert (witness.requests, witness.matched) == (1, 0)


def test_an_answer_read_before_the_scout_read_it_goes_before_a_made_up_one(loop):
    # The upstream's answer goes on at once and is scouted on the next turn of the loop; a
    # request answered by the toxic in the same turn still finds where that answer ended.
    client, upstream, witness = _connection(loop, {"path": "/b", "status": 503})
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    client.data_received(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    upstream.data_received(answer)
    client.data_received(b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    loop.run_until_complete(asyncio.sleep(0))
    written = b"".join(client.transport.written)  # type: ignore[attr-defined]
    assert written.startswith(answer)
    assert written[len(answer) :].startswith(b"HTTP/1.1 503 ")
    assert upstream.transport.written == [b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"]  # type: ignore[attr-defined]
    assert (witness.requests, witness.matched, witness.acted) == (2, 1, 1)


def test_a_request_line_split_across_reads_is_matched_whole(loop):
    client, upstream, witness = _connection(loop, {"method": "GET", "path": "/a", "status": 418})
    client.data_received(b"GE")  # the next read starts mid-line: "T /a" is no request line
    client.data_received(b"T /a HTTP/1.1\r\nHost: x\r\n\r\n")
    loop.run_until_complete(asyncio.sleep(0))
    assert upstream.transport.written == []  # type: ignore[attr-defined]
    assert b"".join(client.transport.written).startswith(b"HTTP/1.1 418 ")  # type: ignore[attr-defined]
    assert (witness.requests, witness.matched, witness.acted) == (1, 1, 1)
