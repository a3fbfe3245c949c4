"""Data plane on real sockets: bytes unchanged, refused connects, closing, live toxic changes."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from tests.toxiproxy._net import (
    closed_by_peer,
    connect,
    free_port,
    recv_all,
    recv_exactly,
    round_trip,
    sender,
    serving,
    sink,
)
from tests.toxiproxy.conftest import embedded_only


@pytest.fixture
def echo_proxy(client, echo_server):
    return client.create_proxy("echo", "127.0.0.1:0", echo_server.addr)


def test_bytes_go_through_unchanged_both_ways(echo_proxy):
    payload = os.urandom(2 * 1024 * 1024)
    with connect(echo_proxy.listen) as sock:
        writer = threading.Thread(target=sock.sendall, args=(payload,))
        writer.start()
        assert recv_exactly(sock, len(payload)) == payload
        writer.join(5)


def test_many_concurrent_connections_keep_their_own_bytes(echo_proxy):
    socks = [connect(echo_proxy.listen) for _ in range(40)]
    try:
        payloads = [os.urandom(1000 + i) for i in range(len(socks))]
        for sock, payload in zip(socks, payloads, strict=True):
            sock.sendall(payload)
        for sock, payload in zip(socks, payloads, strict=True):
            assert recv_exactly(sock, len(payload)) == payload
    finally:
        for sock in socks:
            sock.close()


def test_server_speaking_first_is_not_lost(client):
    with serving(sender(b"220 hello\r\n")) as upstream:
        proxy = client.create_proxy("greet", "127.0.0.1:0", upstream.addr)
        with connect(proxy.listen) as sock:
            assert recv_all(sock) == b"220 hello\r\n"


def test_upstream_sees_everything_the_client_sent_before_closing(client):
    received: list[bytes] = []
    with serving(sink(received)) as upstream:
        proxy = client.create_proxy("sink", "127.0.0.1:0", upstream.addr)
        payload = os.urandom(300_000)
        with connect(proxy.listen) as sock:
            sock.sendall(payload)
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
    assert received == [payload]


def test_disabled_proxy_refuses_connects_and_closes_live_ones(client, echo_proxy):
    with connect(echo_proxy.listen) as live:
        round_trip(live)
        client.disable("echo")
        live.settimeout(2)
        assert closed_by_peer(live)
        with pytest.raises(ConnectionRefusedError):
            connect(echo_proxy.listen)
    client.enable("echo")
    with connect(echo_proxy.listen) as again:
        round_trip(again)


def test_unreachable_upstream_closes_the_accepted_connection_at_once(client):
    proxy = client.create_proxy("dead", "127.0.0.1:0", f"127.0.0.1:{free_port()}")
    with connect(proxy.listen, timeout=2) as sock:
        start = time.monotonic()
        assert closed_by_peer(sock)
        assert time.monotonic() - start < 1.0


def test_deleting_a_proxy_closes_its_connections(client, echo_proxy):
    with connect(echo_proxy.listen, timeout=2) as sock:
        round_trip(sock)
        client.delete_proxy("echo")
        assert closed_by_peer(sock)


def test_toxics_added_changed_and_removed_mid_stream_lose_no_bytes(client, echo_proxy):
    payload = os.urandom(3 * 1024 * 1024)
    received = bytearray()
    with connect(echo_proxy.listen, timeout=10) as sock:

        def write() -> None:
            view = memoryview(payload)
            for offset in range(0, len(view), 16384):
                sock.sendall(view[offset : offset + 16384])
                time.sleep(0.0005)

        def read() -> None:
            received.extend(recv_exactly(sock, len(payload)))

        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for thread in threads:
            thread.start()
        steps = [
            lambda: client.add_toxic("echo", "latency", attributes={"latency": 20, "jitter": 5}),
            lambda: client.add_toxic(
                "echo",
                "slicer",
                stream="upstream",
                attributes={"average_size": 500, "size_variation": 100},
            ),
            lambda: client.update_toxic("echo", "latency_downstream", attributes={"latency": 1}),
            lambda: client.add_toxic("echo", "bandwidth", attributes={"rate": 50_000}),
            lambda: client.remove_toxic("echo", "latency_downstream"),
            lambda: client.add_toxic("echo", "noop", stream="upstream"),
            lambda: client.remove_toxic("echo", "slicer_upstream"),
            lambda: client.remove_toxic("echo", "bandwidth_downstream"),
            lambda: client.remove_toxic("echo", "noop_upstream"),
        ]
        for step in steps:
            time.sleep(0.05)
            step()
        for thread in threads:
            thread.join(20)
    assert len(received) == len(payload)
    assert bytes(received) == payload


def test_removing_a_latency_toxic_releases_held_bytes_at_once(client, echo_proxy):
    client.add_toxic("echo", "latency", attributes={"latency": 2000})
    with connect(echo_proxy.listen) as sock:
        sock.sendall(b"held")
        time.sleep(0.1)
        start = time.monotonic()
        client.remove_toxic("echo", "latency_downstream")
        assert recv_exactly(sock, 4) == b"held"
        assert time.monotonic() - start < 0.5


def test_lowering_latency_live_applies_to_held_bytes(client, echo_proxy):
    client.add_toxic("echo", "latency", attributes={"latency": 2000})
    with connect(echo_proxy.listen) as sock:
        sock.sendall(b"held")
        time.sleep(0.1)
        start = time.monotonic()
        client.update_toxic("echo", "latency_downstream", attributes={"latency": 0})
        assert recv_exactly(sock, 4) == b"held"
        assert time.monotonic() - start < 0.5


@embedded_only
def test_half_close_lets_the_response_through(client):
    # Toxiproxy closes both sockets on the first EOF; stormproof forwards a TCP half-close.
    def answer_after_eof(conn: socket.socket) -> None:
        request = recv_all(conn)
        conn.sendall(b"got " + request)

    with serving(answer_after_eof) as upstream:
        proxy = client.create_proxy("half", "127.0.0.1:0", upstream.addr)
        with connect(proxy.listen) as sock:
            sock.sendall(b"request")
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == b"got request"


def test_new_connections_use_the_updated_upstream(client):
    with serving(sender(b"one")) as first, serving(sender(b"two")) as second:
        proxy = client.create_proxy("switch", "127.0.0.1:0", first.addr)
        with connect(proxy.listen) as sock:
            assert recv_all(sock) == b"one"
        client.update_proxy("switch", upstream=second.addr)
        with connect(proxy.listen) as sock:
            assert recv_all(sock) == b"two"


def test_listen_change_moves_the_proxy(client, echo_server):
    proxy = client.create_proxy("move", "127.0.0.1:0", echo_server.addr)
    port = free_port()
    moved = client.update_proxy("move", listen=f"127.0.0.1:{port}")
    assert moved.listen == f"127.0.0.1:{port}"
    with connect(moved.listen) as sock:
        round_trip(sock)
    with pytest.raises(ConnectionRefusedError):
        connect(proxy.listen)


def test_client_is_closed_once_the_upstream_is_gone(client):
    def answer_and_close(conn: socket.socket) -> None:
        conn.recv(100)
        conn.sendall(b"bye")

    with serving(answer_and_close) as upstream:
        proxy = client.create_proxy("gone", "127.0.0.1:0", upstream.addr)
        with connect(proxy.listen, timeout=2) as sock:
            sock.sendall(b"hello")
            assert recv_all(sock) == b"bye"
            deadline = time.monotonic() + 3
            with pytest.raises((BrokenPipeError, ConnectionResetError)):  # noqa: PT012
                while time.monotonic() < deadline:
                    sock.sendall(b"more")
                    time.sleep(0.05)
