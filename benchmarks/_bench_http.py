"""The http toxic's cost, for bench_proxy.py: HTTP round trips with and without it, and requests/s.

An HTTP/1.1 upstream answers every request with a fixed 200; the measuring client sends
keep-alive GETs one at a time. The proxy's added round trip (proxied minus direct) is compared
with an http toxic that matches nothing (so every request and answer is framed and passed on)
and without one, rounds interleaved so load changes on the machine hit both alike.
"""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import time
from pathlib import Path
from typing import cast

from stormproof.chaos.toxiproxy import ToxiproxyClient

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n"
    + b'{"ok": true}'
)
REQUEST = b"GET /orders/ord_1 HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\r\n"
WARMUP = 50  # round trips before the measured ones, on each connection
_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


class HttpUpstream(asyncio.Protocol):
    """Answers each request (an empty-bodied GET) with `ANSWER`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer.rsplit(b"\r\n\r\n", 1)[1]
            self.transport.write(ANSWER * count)


def _read_answer(sock: socket.socket, pending: bytes) -> bytes:
    """Read one answer (the benchmark's own, framed by Content-Length); returns what follows."""
    while b"\r\n\r\n" not in pending:
        pending += sock.recv(65536)
    head, _, rest = pending.partition(b"\r\n\r\n")
    match = _LENGTH.search(head)
    size = int(match.group(1)) if match else 0
    while len(rest) < size:
        rest += sock.recv(65536)
    return rest[size:]


def http_round_trips(addr: str, count: int, warmup: int = WARMUP) -> list[float]:
    """Seconds per request/answer over one keep-alive connection."""
    host, port = addr.rsplit(":", 1)
    samples = []
    pending = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(count + warmup):
            start = time.perf_counter()
            sock.sendall(REQUEST)
            pending = _read_answer(sock, pending)
            if i >= warmup:
                samples.append(time.perf_counter() - start)
    return samples


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process (all its threads) has run, from Linux's schedstat; None elsewhere."""
    try:
        return (
            sum(
                int(stat.read_text().split()[0])
                for stat in Path(f"/proc/{pid}/task").glob("*/schedstat")
            )
            / 1e9
        )
    except (OSError, ValueError):
        return None


def measure(
    api: ToxiproxyClient, upstream: str, count: int, pid: int | None = None, rounds: int = 5
) -> dict[str, float]:
    """Median round trips direct, proxied, proxied through a non-matching http toxic; and the
    requests/s a matching `status` http toxic answers (one connection, one at a time). With the
    proxy's `pid` (Linux), also its CPU time per round trip without and with the toxic."""
    listen = api.create_proxy("bench_http", "127.0.0.1:0", upstream).listen
    per_round = max(count // rounds, 10)
    runs: dict[str, list[float]] = {"direct": [], "proxy": [], "toxic": []}
    cpu = {"proxy": 0.0, "toxic": 0.0}

    def proxied(name: str) -> None:
        before = cpu_seconds(pid) if pid is not None else None
        runs[name] += http_round_trips(listen, per_round)
        after = cpu_seconds(pid) if pid is not None else None
        if before is not None and after is not None:
            cpu[name] += after - before

    try:
        for _ in range(rounds):
            runs["direct"] += http_round_trips(upstream, per_round)
            proxied("proxy")
            api.add_toxic("bench_http", "http", name="nothing", attributes={"path": "/never"})
            proxied("toxic")
            api.remove_toxic("bench_http", "nothing")
        api.add_toxic("bench_http", "http", name="status", attributes={"status": 503})
        started = time.perf_counter()
        answered = len(http_round_trips(listen, count, warmup=0))
        rps = answered / (time.perf_counter() - started)
        if api.toxic_stats("bench_http", "status").acted != answered:
            raise RuntimeError("the status toxic did not answer every request")
    finally:
        api.delete_proxy("bench_http")
    found = {name: statistics.median(values) * 1e6 for name, values in runs.items()}
    found["status_rps"] = rps
    if cpu["proxy"] > 0:
        for name, spent in cpu.items():  # the round trips counted, warm-ups included
            found[f"{name}_cpu"] = spent / (rounds * (per_round + WARMUP)) * 1e6
    return found


def report(found: dict[str, float]) -> None:
    """Print the figures and the ratio against its goal."""
    direct, proxy, toxic = found["direct"], found["proxy"], found["toxic"]
    added, added_toxic = proxy - direct, toxic - direct
    print()
    print("http toxic (stormproof), HTTP/1.1 keep-alive GETs, round trip p50")
    print(f"  direct                                   {direct:10.1f} us")
    print(f"  through the proxy, no toxic              {proxy:10.1f} us  (adds {added:.1f} us)")
    print(
        f"  through an http toxic matching nothing   {toxic:10.1f} us  (adds {added_toxic:.1f} us)"
    )
    print(
        f"  added round trip, http toxic vs none: {added_toxic / max(added, 1e-9):.2f}x "
        "(goal <= 1.5x)"
    )
    if "proxy_cpu" in found:
        plain, toxic_cpu = found["proxy_cpu"], found["toxic_cpu"]
        print(
            f"  proxy CPU per round trip: no toxic {plain:.1f} us, http toxic matching nothing "
            f"{toxic_cpu:.1f} us ({toxic_cpu / plain:.2f}x)"
        )
    print(f"  requests/s through a matching http status toxic: {found['status_rps']:,.0f}")
