"""Fault witnesses: each toxic's counters move when it acts and only then (real sockets).

Every toxic type runs three ways against an upstream that sends a payload then closes:
active on the stream that carries it (the counters move), with toxicity 0 (they stay 0), and
on the other stream (they stay 0 too), so a witness can say "never fired".
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests

from stormproof.chaos.toxiproxy import ToxicStats, ToxiproxyClient, ToxiproxyNotFoundError
from tests.toxiproxy._net import connect, round_trip, sender, serving
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only

PAYLOAD = os.urandom(4000)
SIZE = len(PAYLOAD)


@dataclass(frozen=True)
class Case:
    type: str
    attributes: dict[str, int]
    acted: Callable[[int], bool]
    bytes: Callable[[int], bool]
    # What the client receives while the toxic acts: the payload cut to this many bytes.
    delivered: int = SIZE
    # Attributes for the other-stream run, where a timer alone must not make the toxic act.
    quiet: dict[str, int] = field(default_factory=dict)


def _some(n: int) -> bool:
    return n >= 1


CASES = [
    Case("latency", {"latency": 20, "jitter": 5}, _some, lambda b: b == SIZE),
    Case("bandwidth", {"rate": 1000}, _some, lambda b: b == SIZE),
    Case(
        "slicer",
        {"average_size": 100, "size_variation": 10, "delay": 100},
        _some,
        lambda b: 0 < b <= SIZE,
    ),
    Case("slow_close", {"delay": 50}, lambda a: a == 1, lambda b: b == 0),
    Case("timeout", {"timeout": 200}, lambda a: a == 1, lambda b: b == SIZE, 0, {"timeout": 0}),
    Case("reset_peer", {"timeout": 0}, lambda a: a == 1, lambda b: 0 < b <= SIZE, 0),
    Case("limit_data", {"bytes": 100}, lambda a: a == 1, lambda b: 0 < b <= SIZE - 100, 100),
    Case("noop", {}, _some, lambda b: b == 0),
]


def _send_when_asked(conn: socket.socket) -> None:
    # Waiting for the client's first byte keeps a reset from racing the client's connect
    # (a connect with a timeout reports ECONNRESET when the RST beats its poll).
    if conn.recv(1):
        sender(PAYLOAD)(conn)


def _receive(sock: socket.socket) -> bytes:
    """Everything until EOF or a reset, bounded by the socket's timeout."""
    parts = []
    try:
        while data := sock.recv(65536):
            parts.append(data)
    except ConnectionResetError:
        pass
    return b"".join(parts)


def _stats_when(
    client: ToxiproxyClient, name: str, done: Callable[[ToxicStats], bool]
) -> ToxicStats:
    # The client may see the effect a moment before the server's loop has counted it.
    deadline = time.monotonic() + 3.0
    stats = client.toxic_stats("wit", name)
    while not done(stats) and time.monotonic() < deadline:
        time.sleep(0.01)
        stats = client.toxic_stats("wit", name)
    return stats


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_counters_move_when_the_toxic_acts(client, case):
    with serving(_send_when_asked) as upstream:
        proxy = client.create_proxy("wit", "127.0.0.1:0", upstream.addr)
        toxic = client.add_toxic("wit", case.type, attributes=case.attributes)
        assert client.toxic_stats("wit", toxic.name) == ToxicStats(
            toxic.name, case.type, "downstream", 0, 0, 0
        )
        with connect(proxy.listen) as sock:
            sock.sendall(b"?")
            got = _receive(sock)
            assert got == PAYLOAD[: case.delivered]
            stats = _stats_when(client, toxic.name, lambda s: case.acted(s.acted))
    assert stats.connections == 1
    assert case.acted(stats.acted), stats
    assert case.bytes(stats.bytes), stats
    assert stats.fired


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_counters_stay_zero_with_toxicity_zero(client, case):
    with serving(sender(PAYLOAD)) as upstream:
        proxy = client.create_proxy("wit", "127.0.0.1:0", upstream.addr)
        toxic = client.add_toxic("wit", case.type, toxicity=0.0, attributes=case.attributes)
        with connect(proxy.listen) as sock:
            assert _receive(sock) == PAYLOAD
            stats = client.toxic_stats("wit", toxic.name)
    assert (stats.connections, stats.acted, stats.bytes) == (0, 0, 0)
    assert not stats.fired


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.type)
def test_counters_stay_zero_when_traffic_goes_the_other_way(client, case):
    attributes = {**case.attributes, **case.quiet}
    with serving(sender(PAYLOAD)) as upstream:
        proxy = client.create_proxy("wit", "127.0.0.1:0", upstream.addr)
        toxic = client.add_toxic("wit", case.type, stream="upstream", attributes=attributes)
        with connect(proxy.listen) as sock:
            # The whole payload and its EOF came down, so the upstream chain saw all it will
            # see until this socket closes.
            assert _receive(sock) == PAYLOAD
            stats = client.toxic_stats("wit", toxic.name)
    assert stats.stream == "upstream"
    assert stats.connections == 1
    assert (stats.acted, stats.bytes) == (0, 0)


def test_counters_sum_over_connections_survive_updates_and_vanish_on_removal(client, echo_server):
    proxy = client.create_proxy("wit", "127.0.0.1:0", echo_server.addr)
    client.add_toxic("wit", "latency", name="slow", attributes={"latency": 5})
    for _ in range(2):
        with connect(proxy.listen) as sock:
            round_trip(sock, b"abc")
    before = client.toxic_stats("wit", "slow")
    assert (before.connections, before.acted, before.bytes) == (2, 2, 6)
    client.update_toxic("wit", "slow", attributes={"latency": 0}, toxicity=1.0)
    assert client.toxic_stats("wit", "slow") == before
    with connect(proxy.listen) as sock:
        round_trip(sock, b"abc")  # latency 0 delays nothing: no action, one more connection
    after = client.toxic_stats("wit", "slow")
    assert (after.connections, after.acted, after.bytes) == (3, 2, 6)
    client.remove_toxic("wit", "slow")
    with pytest.raises(ToxiproxyNotFoundError):
        client.toxic_stats("wit", "slow")
    client.add_toxic("wit", "latency", name="slow", attributes={"latency": 5})
    assert client.toxic_stats("wit", "slow").acted == 0


def test_update_rerolling_active_counts_a_link_once(client, echo_server):
    proxy = client.create_proxy("wit", "127.0.0.1:0", echo_server.addr)
    client.add_toxic("wit", "noop", name="n", toxicity=0.0)
    with connect(proxy.listen) as sock:
        round_trip(sock)
        assert client.toxic_stats("wit", "n").connections == 0
        client.update_toxic("wit", "n", toxicity=1.0)
        client.update_toxic("wit", "n", toxicity=1.0)
        round_trip(sock)
        stats = client.toxic_stats("wit", "n")
    assert (stats.connections, stats.acted) == (1, 1)


def test_toxic_held_data_is_not_counted_twice_on_update(client, echo_server):
    proxy = client.create_proxy("wit", "127.0.0.1:0", echo_server.addr)
    client.add_toxic("wit", "latency", name="slow", attributes={"latency": 400})
    with connect(proxy.listen) as sock:
        sock.sendall(b"held")
        time.sleep(0.1)  # the echo is back and waiting in the toxic
        client.update_toxic("wit", "slow", attributes={"latency": 300})
        stats = client.toxic_stats("wit", "slow")
    assert (stats.acted, stats.bytes) == (1, 4)


def test_stats_route_leaves_toxiproxy_json_unchanged_and_404s_alike(client, toxiproxy_url):
    client.create_proxy("wit", "127.0.0.1:0", "127.0.0.1:9")
    client.add_toxic("wit", "latency", name="slow", attributes={"latency": 5})
    base = f"{toxiproxy_url}/proxies/wit/toxics"
    shown = requests.get(f"{base}/slow", timeout=5)
    assert list(shown.json()) == ["attributes", "name", "type", "stream", "toxicity"]
    stats = requests.get(f"{base}/slow/stats", timeout=5)
    assert stats.status_code == 200
    assert stats.json() == {
        "name": "slow",
        "type": "latency",
        "stream": "downstream",
        "connections": 0,
        "acted": 0,
        "bytes": 0,
    }
    for missing in (f"{base}/nope", f"{toxiproxy_url}/proxies/nope/toxics/slow"):
        plain = requests.get(missing, timeout=5)
        witnessed = requests.get(f"{missing}/stats", timeout=5)
        assert plain.status_code == witnessed.status_code == 404
        assert witnessed.content == plain.content
        assert witnessed.headers["Content-Type"] == plain.headers["Content-Type"]


def test_echo_traffic_moves_only_the_stream_it_crosses(client, echo_server):
    proxy = client.create_proxy("wit", "127.0.0.1:0", echo_server.addr)
    client.add_toxic("wit", "noop", name="up", stream="upstream")
    client.add_toxic("wit", "noop", name="down", stream="downstream")
    with connect(proxy.listen) as sock:
        round_trip(sock)
        up = _stats_when(client, "up", lambda s: s.acted >= 1)
        down = client.toxic_stats("wit", "down")
    assert up.acted >= 1
    assert down.acted >= 1
