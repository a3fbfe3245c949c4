"""Load through the embedded proxy: many concurrent connections, request/response pairs, toxics.

Two proxies in front of one echo upstream (all on 127.0.0.1):

* ``load``: latency toxics both ways. Every connection must finish every pair with the right
  bytes: any error there is unexpected.
* ``reset``: latency plus ``reset_peer`` (toxicity 0.5, after a short timeout). A connection
  there may end in a reset (``ConnectionResetError``, an early EOF, a broken pipe) and nothing
  else; how many did is reported.

Afterwards every connection is closed: no socket of this process may still touch a port of
the load (the proxies' and the upstream's listeners aside), and the proxy must come back to
the event-loop tasks it had before. The sockets are found by identity (``/proc/self/fd`` and
``/proc/net/tcp``), not by counting the process's descriptors: in the whole test suite other
tests' threads open and close descriptors of their own while the load runs, which made a
count before and after differ now and then. The counts are still reported. ``run_load`` is
shared by ``tests/reliability/test_load.py`` (small) and ``benchmarks/bench_load.py`` (1,000
connections, 50,000 pairs).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import statistics
import time
from dataclasses import dataclass, field

import uvloop

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ServerStats, ToxiproxyClient

MESSAGE = 64
_RESET_ERRORS = (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError)


@dataclass
class LoadReport:
    """What a load run measured."""

    connections: int
    reset_connections: int
    pairs: int = 0
    resets: int = 0
    unexpected: list[str] = field(default_factory=list)
    round_trips_ms: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    fds_before: int = 0
    fds_peak: int = 0
    fds_after: int = 0
    sockets_left: list[str] = field(default_factory=list)
    before: ServerStats | None = None
    peak: ServerStats | None = None
    after: ServerStats | None = None

    def lines(self) -> list[str]:
        """The figures, one per line."""
        trips = sorted(self.round_trips_ms) or [0.0]
        p99 = trips[min(len(trips) - 1, int(len(trips) * 0.99))]
        return [
            f"connections: {self.connections} concurrent "
            f"({self.reset_connections} through reset_peer)",
            f"request/response pairs: {self.pairs} in {self.elapsed_s:.1f} s "
            f"({self.pairs / max(self.elapsed_s, 1e-9):,.0f}/s)",
            f"round trip: p50 {statistics.median(trips):.1f} ms, p99 {p99:.1f} ms",
            f"connections reset by the reset_peer toxic: {self.resets}",
            f"unexpected errors: {len(self.unexpected)}",
            f"open fds: before {self.fds_before}, peak {self.fds_peak}, after {self.fds_after}",
            f"sockets of the load still open: {len(self.sockets_left)}",
            f"proxy tasks: before {_tasks(self.before)}, peak {_tasks(self.peak)}, "
            f"after {_tasks(self.after)}",
            f"proxy connections: peak {_conns(self.peak)}, after {_conns(self.after)}",
        ]


def _tasks(stats: ServerStats | None) -> str:
    return "?" if stats is None else str(stats.tasks)


def _conns(stats: ServerStats | None) -> str:
    return "?" if stats is None else str(stats.connections)


def open_fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def _socket_inodes() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, or one just closed
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def sockets_on(ports: set[int]) -> list[str]:
    """This process's TCP sockets, listeners aside, whose local or remote port is in `ports`.

    Linux only: ``/proc/net/tcp`` gives each socket's addresses and inode, ``/proc/self/fd``
    which inodes this process holds.
    """
    mine = _socket_inodes()
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table, encoding="ascii") as lines:
            next(lines)  # the header
            for line in lines:
                fields = line.split()
                local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
                if inode not in mine or state == _LISTEN:
                    continue
                if {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)} & ports:
                    found.append(f"{local} -> {remote} (state {state})")
    return found


_LISTEN = "0A"


def raise_fd_limit(needed: int) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` towards ``needed`` (never above the hard limit).

    Returns:
        The soft limit in force afterwards.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass  # reset through the reset_peer proxy
    finally:
        writer.close()


@dataclass
class _Barrier:
    """Every client connects first, then all start their pairs together."""

    expected: int
    arrived: int = 0
    all_in: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)

    def arrive(self) -> None:
        self.arrived += 1
        if self.arrived == self.expected:
            self.all_in.set()


async def _client(
    port: int, pairs: int, expect_reset: bool, report: LoadReport, barrier: _Barrier
) -> None:
    writer: asyncio.StreamWriter | None = None
    try:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            barrier.arrive()
        await barrier.go.wait()
        for number in range(pairs):
            message = f"{id(writer):x}:{number}:".encode().ljust(MESSAGE, b".")
            sent = time.perf_counter()
            writer.write(message)
            await writer.drain()
            echoed = await reader.readexactly(MESSAGE)
            report.round_trips_ms.append((time.perf_counter() - sent) * 1000)
            if echoed != message:
                report.unexpected.append(f"wrong bytes: {echoed[:20]!r} for {message[:20]!r}")
                return
            report.pairs += 1
    except _RESET_ERRORS as exc:
        if expect_reset:
            report.resets += 1
        else:
            report.unexpected.append(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # every other failure is what this load run exists to find
        report.unexpected.append(f"{type(exc).__name__}: {exc}")
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _sample(server: EmbeddedToxiproxy, report: LoadReport, done: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not done.is_set():
        stats = await loop.run_in_executor(None, server.stats)
        if report.peak is None or stats.connections > report.peak.connections:
            report.peak = stats
        report.fds_peak = max(report.fds_peak, open_fds())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.25)


async def _settle(
    server: EmbeddedToxiproxy, report: LoadReport, ports: set[int], within_s: float
) -> None:
    """Wait (bounded) until the proxy holds no connection and no socket of the load is open."""
    loop = asyncio.get_running_loop()
    ends = time.monotonic() + within_s
    while True:
        stats = await loop.run_in_executor(None, server.stats)
        report.after, report.fds_after = stats, open_fds()
        report.sockets_left = sockets_on(ports)
        settled = stats.connections == 0 and not report.sockets_left
        if report.before is not None:
            settled = settled and stats.tasks <= report.before.tasks
        if settled or time.monotonic() > ends:
            return
        await asyncio.sleep(0.1)


async def _run(
    server: EmbeddedToxiproxy,
    connections: int,
    pairs: int,
    reset_connections: int,
    deadline_s: float,
) -> LoadReport:
    report = LoadReport(connections, reset_connections)
    upstream = await asyncio.start_server(_echo, "127.0.0.1", 0, backlog=connections + 64)
    port = upstream.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    with ToxiproxyClient(server.url) as api:
        load = api.create_proxy("load", "127.0.0.1:0", f"127.0.0.1:{port}")
        reset = api.create_proxy("reset", "127.0.0.1:0", f"127.0.0.1:{port}")
        for proxy in ("load", "reset"):
            api.add_toxic(
                proxy, "latency", stream="downstream", attributes={"latency": 5, "jitter": 2}
            )
            api.add_toxic(proxy, "latency", stream="upstream", attributes={"latency": 2})
        report.before = await loop.run_in_executor(None, server.stats)
        report.fds_before = report.fds_peak = open_fds()
        barrier, done = _Barrier(connections), asyncio.Event()
        tasks = [
            asyncio.create_task(
                _client(
                    reset.port if n < reset_connections else load.port,
                    pairs,
                    n < reset_connections,
                    report,
                    barrier,
                )
            )
            for n in range(connections)
        ]
        began = time.monotonic()
        try:
            await asyncio.wait_for(barrier.all_in.wait(), deadline_s)
            # Every client is connected; once the proxy has accepted them all, that is the peak.
            for _ in range(100):
                report.peak = await loop.run_in_executor(None, server.stats)
                if report.peak.connections >= connections:
                    break
                await asyncio.sleep(0.05)
            report.fds_peak = open_fds()
        except TimeoutError:
            report.unexpected.append(f"not every client connected within {deadline_s:g} s")
        # Added to live connections: each rolls the toxicity and resets 100 ms later.
        api.add_toxic("reset", "reset_peer", toxicity=0.5, attributes={"timeout": 100})
        barrier.go.set()
        sampler = asyncio.create_task(_sample(server, report, done))
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), deadline_s)
        except TimeoutError:
            report.unexpected.append(f"the load did not finish within {deadline_s:g} s")
        report.elapsed_s = time.monotonic() - began
        done.set()
        await sampler
        await _settle(server, report, {load.port, reset.port, port}, within_s=10.0)
        api.delete_proxy("load")
        api.delete_proxy("reset")
    upstream.close()
    await upstream.wait_closed()
    return report


def run_load(
    server: EmbeddedToxiproxy,
    *,
    connections: int,
    pairs: int,
    reset_connections: int,
    deadline_s: float = 120.0,
) -> LoadReport:
    """Drive ``connections`` concurrent connections of ``pairs`` pairs each through ``server``.

    The first ``reset_connections`` go through the ``reset`` proxy. The upstream and the clients
    run on a uvloop loop in the calling thread; the proxy runs on its own thread.
    """
    raise_fd_limit(4 * connections + 1024)
    return uvloop.run(_run(server, connections, pairs, reset_connections, deadline_s))
