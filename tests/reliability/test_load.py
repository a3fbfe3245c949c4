"""A small load through the embedded proxy: no unexpected error, no leaked fd or task.

``benchmarks/bench_load.py`` runs the full load (1,000 connections, 50,000 pairs).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from tests.reliability._figures import count
from tests.reliability._load import run_load, sockets_on


def test_concurrent_connections_through_latency_and_reset_toxics_leak_nothing() -> None:
    with EmbeddedToxiproxy(seed=11) as server:
        report = run_load(server, connections=200, pairs=10, reset_connections=40, deadline_s=60)
        stats = server.stats()
    assert report.unexpected == [], report.unexpected[:5]
    assert report.peak is not None
    assert report.peak.connections == 200  # all open at the same time
    # The 160 connections of the latency-only proxy finished every pair.
    assert report.pairs >= 160 * 10
    # reset_peer with toxicity 0.5 over 40 connections (seeded): some, not all, were reset.
    assert 5 <= report.resets <= 35
    assert report.after is not None
    assert report.before is not None
    assert report.after.connections == 0
    assert report.after.tasks == report.before.tasks
    assert report.sockets_left == []
    assert stats.proxies == 0
    count("load (small)", "connections", report.connections)
    count("load (small)", "pairs", report.pairs)
    count("load (small)", "resets", report.resets)


def test_another_thread_closing_descriptors_mid_load_is_not_a_leak() -> None:
    # The cause of the test above failing once in a whole-suite run: it compared the process's
    # descriptor count before and after, and other tests' threads open and close their own.
    spare = socket.socketpair()

    def close_once_the_load_runs(server: EmbeddedToxiproxy) -> None:
        deadline = time.monotonic() + 30
        while server.stats().connections == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        for sock in spare:
            sock.close()

    with EmbeddedToxiproxy(seed=11) as server:
        closer = threading.Thread(target=close_once_the_load_runs, args=(server,))
        closer.start()
        report = run_load(server, connections=50, pairs=3, reset_connections=0, deadline_s=60)
        closer.join(30)
    assert report.unexpected == []
    assert report.fds_after == report.fds_before - 2  # what the count-based check tripped on
    assert report.sockets_left == []


def test_the_socket_check_finds_what_a_proxied_connection_holds_and_nothing_else() -> None:
    with (
        socket.create_server(("127.0.0.1", 0)) as upstream,
        socket.create_server(("127.0.0.1", 0)) as unrelated,
        EmbeddedToxiproxy() as server,
        ToxiproxyClient(server.url) as api,
    ):
        proxy = api.create_proxy("s", "127.0.0.1:0", f"127.0.0.1:{upstream.getsockname()[1]}")
        ports = {proxy.port, upstream.getsockname()[1]}
        assert sockets_on(ports) == []  # listeners are not connections
        with socket.create_connection(unrelated.getsockname(), timeout=5):
            other_peer, _ = unrelated.accept()
            with other_peer:
                assert sockets_on(ports) == []
                client = socket.create_connection((proxy.host, proxy.port), timeout=5)
                peer, _ = upstream.accept()
                # client, the proxy's accepted socket and its upstream socket, the upstream's
                assert len(sockets_on(ports)) == 4
                client.close()
                peer.close()
        deadline = time.monotonic() + 5
        while sockets_on(ports) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sockets_on(ports) == []


def test_stats_count_proxies_open_connections_and_tasks() -> None:
    upstream = socket.create_server(("127.0.0.1", 0))
    try:
        with EmbeddedToxiproxy() as server, ToxiproxyClient(server.url) as api:
            assert server.stats().proxies == 0
            proxy = api.create_proxy("s", "127.0.0.1:0", f"127.0.0.1:{upstream.getsockname()[1]}")
            with socket.create_connection((proxy.host, proxy.port), timeout=5):
                peer, _ = upstream.accept()  # the proxy has accepted and dialled upstream
                with peer:
                    held = server.stats()
            assert (held.proxies, held.connections) == (1, 1)
            assert held.tasks >= 1  # at least the handler of this client's API connection
        with pytest.raises(RuntimeError, match="not running"):
            server.stats()
    finally:
        upstream.close()
