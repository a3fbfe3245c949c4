"""Each toxic's effect and timing, measured on real sockets with tolerant bounds."""

from __future__ import annotations

import errno
import os
import socket
import statistics
import time

import pytest

from tests.toxiproxy._net import (
    closed_by_peer,
    connect,
    recv_all,
    recv_exactly,
    round_trip,
    sender,
    serving,
    sink,
)
from tests.toxiproxy.conftest import embedded_only

SLACK = 0.15  # seconds of scheduling slack allowed above an injected delay (2 busy cores)


@pytest.fixture
def echo_proxy(client, echo_server):
    return client.create_proxy("echo", "127.0.0.1:0", echo_server.addr)


def test_noop_changes_nothing(client, echo_proxy):
    client.add_toxic("echo", "noop")
    with connect(echo_proxy.listen) as sock:
        payload = os.urandom(100_000)
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload


def test_latency_delays_each_direction(client, echo_proxy):
    with connect(echo_proxy.listen) as sock:
        client.add_toxic("echo", "latency", attributes={"latency": 100})
        elapsed = round_trip(sock)
        assert 0.1 <= elapsed < 0.1 + SLACK
        client.add_toxic("echo", "latency", stream="upstream", attributes={"latency": 50})
        elapsed = round_trip(sock)
        assert 0.15 <= elapsed < 0.15 + SLACK


def test_latency_is_pipelined_per_chunk(client, echo_proxy):
    client.add_toxic("echo", "latency", attributes={"latency": 150})
    with connect(echo_proxy.listen) as sock:
        start = time.monotonic()
        for index in range(5):
            sock.sendall(b"%d" % index)
            time.sleep(0.03)
        assert recv_exactly(sock, 5) == b"01234"
        # Serial delays would take 5 x 150 ms; pipelined ones end ~150 ms after the last send.
        assert time.monotonic() - start < 0.12 + 0.15 + SLACK


def test_latency_jitter_stays_within_bounds(client, echo_proxy):
    client.add_toxic("echo", "latency", attributes={"latency": 60, "jitter": 40})
    with connect(echo_proxy.listen) as sock:
        samples = [round_trip(sock) for _ in range(12)]
    assert min(samples) >= 0.02
    assert max(samples) < 0.1 + SLACK
    assert statistics.pstdev(samples) > 0.003


def test_bandwidth_limits_the_rate(client):
    payload = os.urandom(60_000)
    with serving(sender(payload)) as upstream:
        client.create_proxy("slow", "127.0.0.1:0", upstream.addr)
        client.add_toxic("slow", "bandwidth", attributes={"rate": 100})  # 100 KB/s
        proxy = client.get_proxy("slow")
        with connect(proxy.listen, timeout=10) as sock:
            start = time.monotonic()
            assert recv_all(sock) == payload
            elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 0.6 + 0.3


def test_slow_close_delays_the_close_not_the_data(client):
    with serving(sender(b"bye")) as upstream:
        proxy = client.create_proxy("sc", "127.0.0.1:0", upstream.addr)
        client.add_toxic("sc", "slow_close", attributes={"delay": 300})
        with connect(proxy.listen) as sock:
            start = time.monotonic()
            assert recv_exactly(sock, 3) == b"bye"
            assert time.monotonic() - start < 0.2
            assert sock.recv(1) == b""
            assert 0.3 <= time.monotonic() - start < 0.3 + SLACK


def test_timeout_drops_data_and_closes_after_the_timeout(client, echo_proxy):
    client.add_toxic("echo", "timeout", attributes={"timeout": 200})
    with connect(echo_proxy.listen) as sock:
        start = time.monotonic()
        sock.sendall(b"lost")
        assert closed_by_peer(sock)
        assert 0.2 <= time.monotonic() - start < 0.2 + SLACK


def test_timeout_restarts_on_each_chunk(client, echo_proxy):
    client.add_toxic("echo", "timeout", stream="upstream", attributes={"timeout": 250})
    with connect(echo_proxy.listen) as sock:
        start = time.monotonic()
        for _ in range(3):
            sock.sendall(b"x")
            time.sleep(0.1)
        assert closed_by_peer(sock)
        assert 0.3 + 0.25 - 0.1 <= time.monotonic() - start < 0.55 + SLACK


def test_timeout_zero_holds_forever_and_removal_closes_both_ends(client):
    server_side: list[socket.socket] = []

    def hold(conn: socket.socket) -> None:
        server_side.append(conn)
        conn.settimeout(3)
        assert conn.recv(10) == b""

    with serving(hold) as upstream:
        proxy = client.create_proxy("hold", "127.0.0.1:0", upstream.addr)
        with connect(proxy.listen, timeout=0.3) as sock:
            client.add_toxic("hold", "timeout", stream="upstream", attributes={"timeout": 0})
            sock.sendall(b"swallowed")
            with pytest.raises(TimeoutError):
                sock.recv(10)
            sock.settimeout(2)
            client.remove_toxic("hold", "timeout_upstream")
            assert closed_by_peer(sock)
            assert upstream.accepted == 1


def test_reset_peer_sends_rst(client, echo_proxy):
    client.add_toxic("echo", "reset_peer", stream="upstream")
    with connect(echo_proxy.listen) as sock:
        sock.sendall(b"reset me\n")
        with pytest.raises(ConnectionResetError) as raised:
            sock.recv(100)
        assert raised.value.errno == errno.ECONNRESET


def test_reset_peer_waits_for_its_timeout(client, echo_proxy):
    client.add_toxic("echo", "reset_peer", attributes={"timeout": 200})
    with connect(echo_proxy.listen) as sock:
        start = time.monotonic()
        sock.sendall(b"reset me\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(100)
        assert 0.2 <= time.monotonic() - start < 0.2 + SLACK


def test_slicer_cuts_the_stream_into_small_spaced_pieces(client):
    payload = os.urandom(2000)
    with serving(sender(payload)) as upstream:
        proxy = client.create_proxy("sl", "127.0.0.1:0", upstream.addr)
        client.add_toxic(
            "sl", "slicer", attributes={"average_size": 100, "size_variation": 50, "delay": 5000}
        )
        with connect(proxy.listen) as sock:
            pieces = []
            start = time.monotonic()
            while data := sock.recv(65536):
                pieces.append(data)
            elapsed = time.monotonic() - start
    assert b"".join(pieces) == payload
    assert len(pieces) >= 8
    assert max(len(p) for p in pieces) <= 1000
    assert elapsed >= 0.05  # >= 16 pieces with 5 ms between them


def test_limit_data_closes_after_the_limit(client):
    with serving(sender(os.urandom(5000))) as upstream:
        proxy = client.create_proxy("ld", "127.0.0.1:0", upstream.addr)
        client.add_toxic("ld", "limit_data", attributes={"bytes": 1234})
        with connect(proxy.listen) as sock:
            assert len(recv_all(sock)) == 1234


def test_limit_data_upstream_counts_across_writes(client):
    received: list[bytes] = []
    with serving(sink(received)) as upstream:
        proxy = client.create_proxy("ld", "127.0.0.1:0", upstream.addr)
        client.add_toxic("ld", "limit_data", stream="upstream", attributes={"bytes": 10})
        with connect(proxy.listen) as sock:
            sock.sendall(b"12345")
            time.sleep(0.05)
            sock.sendall(b"6789abcdef")
            assert closed_by_peer(sock)
        deadline = time.monotonic() + 3
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
    assert received == [b"123456789a"]


def test_toxicity_zero_never_applies(client, echo_proxy):
    client.add_toxic("echo", "latency", toxicity=0.0, attributes={"latency": 1000})
    with connect(echo_proxy.listen) as sock:
        assert round_trip(sock) < 0.5


def test_toxicity_is_rolled_per_connection(client, echo_proxy):
    client.add_toxic("echo", "latency", toxicity=0.5, attributes={"latency": 100})
    delayed = []
    for _ in range(12):
        with connect(echo_proxy.listen) as sock:
            first = round_trip(sock) > 0.05
            second = round_trip(sock) > 0.05
        assert first == second  # same roll for the whole connection
        delayed.append(first)
    assert any(delayed)
    assert not all(delayed)


@embedded_only
def test_a_seed_makes_toxicity_rolls_reproducible(client, echo_server):
    def pattern(connections_before: int = 0) -> list[bool]:
        client.create_proxy("seeded", "127.0.0.1:0", echo_server.addr)
        proxy = client.get_proxy("seeded")
        for _ in range(connections_before):
            with connect(proxy.listen) as sock:
                round_trip(sock)
                # Closed both ways before the toxic comes, or it would run on this link too.
                sock.shutdown(socket.SHUT_WR)
                assert recv_all(sock) == b""
        client.add_toxic("seeded", "latency", toxicity=0.5, attributes={"latency": 120})
        rolls = []
        for _ in range(12):
            with connect(proxy.listen) as sock:
                rolls.append(round_trip(sock) > 0.06)
        client.delete_proxy("seeded")
        return rolls

    first = pattern()
    assert pattern() == first
    assert any(first)
    assert not all(first)
    # The toxic's n-th connection rolls the same however many the proxy saw before it.
    assert pattern(connections_before=5) == first
