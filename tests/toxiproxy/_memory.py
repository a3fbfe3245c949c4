"""Memory a proxied connection costs under each toxic, measured on a real server process.

For each case a fresh ``stormproof proxy`` process serves one proxy whose upstream accepts and
never reads; the client sends a payload as fast as the proxy takes it, through a toxic set to
hold what it can (a minute of latency, 1 KB/s, 1-byte slices a second apart, ...). The server's
resident memory (``VmRSS``) is sampled until the client stalls or has sent everything. Growth
is compared with the bytes in flight: sent by the client and not received by the upstream
(which is all of them). Linux only (``/proc``). Shared by ``tests/toxiproxy/test_memory.py`` and
``benchmarks/bench_proxy_memory.py``.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

from tests.toxiproxy._net import free_port

UA = {"User-Agent": "stormproof-memory"}
# Small kernel buffers at both ends keep the bytes in flight inside the proxy process.
SOCKET_BUFFER = 64 * 1024


@dataclass(frozen=True)
class Case:
    """One toxic to measure (`type` None: no toxic)."""

    label: str
    type: str | None
    attributes: dict[str, int] = field(default_factory=dict)


CASES = [
    Case("no toxic", None),
    Case("latency 60 s", "latency", {"latency": 60_000}),
    Case("bandwidth 1 KB/s", "bandwidth", {"rate": 1}),
    Case("slicer 1 B, 1 s apart", "slicer", {"average_size": 1, "delay": 10**6}),
    Case("slicer 64 B, no delay", "slicer", {"average_size": 64, "delay": 0}),
    Case("slow_close 60 s", "slow_close", {"delay": 60_000}),
    Case("timeout 0 (holds)", "timeout", {"timeout": 0}),
    Case("reset_peer 60 s", "reset_peer", {"timeout": 60_000}),
    Case("limit_data 1 TB", "limit_data", {"bytes": 2**40}),
    Case("noop", "noop"),
]


@dataclass(frozen=True)
class Measure:
    """What one case measured."""

    case: Case
    sent: int
    in_flight: int
    rss_before: int
    rss_peak: int

    @property
    def growth(self) -> int:
        """Resident memory the connection added, in bytes."""
        return max(self.rss_peak - self.rss_before, 0)

    @property
    def ratio(self) -> float:
        """Growth per byte in flight."""
        return self.growth / max(self.in_flight, 1)


def rss(pid: int) -> int:
    """Resident memory of process `pid`, in bytes."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextlib.contextmanager
def server_process() -> Iterator[tuple[str, int]]:
    """A ``stormproof proxy`` child process on 127.0.0.1; yields its URL and pid."""
    port = free_port()
    command = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()", "proxy"]
    process = subprocess.Popen(
        [*command, "-host", "127.0.0.1", "-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/version", headers=UA, timeout=5).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the proxy server did not start")
            time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


def measure(case: Case, payload_size: int, stall_s: float = 1.0) -> Measure:
    """Send `payload_size` bytes through a proxy with `case`'s toxic; sample the server's RSS."""
    upstream = socket.socket()
    upstream.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
    upstream.bind(("127.0.0.1", 0))
    upstream.listen()
    held: list[socket.socket] = []
    with server_process() as (url, pid), upstream:
        api = requests.Session()
        api.headers.update(UA)
        upstream_host, upstream_port = upstream.getsockname()
        body = {
            "name": "m",
            "listen": "127.0.0.1:0",
            "upstream": f"{upstream_host}:{upstream_port}",
        }
        listen = api.post(url + "/proxies", json=body, timeout=5).json()["listen"]
        if case.type is not None:
            toxic = {"type": case.type, "stream": "upstream", "attributes": case.attributes}
            assert api.post(f"{url}/proxies/m/toxics", json=toxic, timeout=5).status_code == 200
        before = rss(pid)
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        host, port = listen.rsplit(":", 1)
        client.connect((host, int(port)))
        held.append(upstream.accept()[0])  # accepted, never read
        sent = [0]
        sender = threading.Thread(target=_send, args=(client, payload_size, sent), daemon=True)
        sender.start()
        peak, last, last_change = before, -1, time.monotonic()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            peak = max(peak, rss(pid))
            if sent[0] != last:
                last, last_change = sent[0], time.monotonic()
            elif time.monotonic() - last_change > stall_s or not sender.is_alive():
                break
            time.sleep(0.02)
        for _ in range(10):  # what the proxy does with the last bytes shows a moment later
            peak = max(peak, rss(pid))
            time.sleep(0.02)
        client.close()
        sender.join(5)
        for sock in held:
            sock.close()
        api.close()
    return Measure(case, sent[0], sent[0], before, peak)


def _send(sock: socket.socket, size: int, sent: list[int]) -> None:
    block = b"\x5a" * 65536
    with contextlib.suppress(OSError):
        while sent[0] < size:
            sent[0] += sock.send(block[: size - sent[0]])
