"""Embedded Toxiproxy vs a direct connection (and a real Toxiproxy), side by side in one run.

Measures, through each proxy and directly:
  * bulk throughput of one connection (MB/s), with no toxic and with a 10 ms latency toxic;
  * round trip of small request/response pairs (p50/p99) and what the proxy adds to it;
  * accuracy of injected latency: |measured - injected| p50/p99 at 50, 200 and 500 ms;
  * N concurrent connections held for a while, each echoing once a second: errors and the
    proxy's memory growth;
  * HTTP round trips through an http toxic that matches nothing vs none, and requests/s through
    a matching http status toxic (stormproof only: benchmarks/_bench_http.py).

Usage:
    python benchmarks/bench_proxy.py                     # stormproof vs direct
    python benchmarks/bench_proxy.py --hold 5 --quick    # a quick first look
    TOXIPROXY_URL=http://127.0.0.1:8474 TOXIPROXY_PID=1234 python benchmarks/bench_proxy.py
    python benchmarks/bench_proxy.py --real-cmd "toxiproxy-server -port {port}"

Every server listens on 127.0.0.1. The upstream servers run in their own process (uvloop), and
each proxy in its own process, so the measuring client does not share a GIL with either.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402

from benchmarks import _bench_http  # noqa: E402
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyConnectionError  # noqa: E402

CHUNK = 256 * 1024


# -- upstream servers (run in a child process) ---------------------------------------------
class _Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


class _Source(asyncio.Protocol):
    """Writes as fast as the reader takes it."""

    payload = os.urandom(CHUNK)

    def connection_made(self, transport):
        self.transport = transport
        self.paused = False
        transport.set_write_buffer_limits(high=4 * CHUNK)
        self._pump()

    def _pump(self):
        while not self.paused and not self.transport.is_closing():
            self.transport.write(self.payload)

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        self._pump()

    def data_received(self, data):
        pass

    def connection_lost(self, exc):
        self.paused = True


def serve_upstreams() -> None:
    async def main():
        loop = asyncio.get_running_loop()
        echo = await loop.create_server(_Echo, "127.0.0.1", 0, backlog=4096)
        source = await loop.create_server(_Source, "127.0.0.1", 0, backlog=128)
        web = await loop.create_server(_bench_http.HttpUpstream, "127.0.0.1", 0, backlog=128)
        ports = [s.sockets[0].getsockname()[1] for s in (echo, source, web)]
        print(" ".join(map(str, ports)), flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # until the parent goes away

    uvloop.run(main())


# -- helpers -------------------------------------------------------------------------------
def rss_kib(pid: int | None) -> int | None:
    if pid is None:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split(addr: str) -> tuple[str, int]:
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def wait_api(url: str, seconds: float = 20.0) -> ToxiproxyClient:
    client = ToxiproxyClient(url, timeout=10)
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.version()
            return client
        except ToxiproxyConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@dataclass
class Target:
    name: str
    url: str | None  # None: direct connections
    pid: int | None = None
    process: subprocess.Popen[bytes] | None = None
    results: dict[str, Any] = field(default_factory=dict)
    api: ToxiproxyClient | None = None
    echo: str = ""
    source: str = ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_stormproof() -> Target:
    port = free_port()
    cmd = [
        sys.executable,
        "-c",
        "from stormproof.chaos.cli import main; main()",
        "proxy",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_api(url)
    return Target("stormproof", url, process.pid, process)


def start_real(args: argparse.Namespace) -> Target | None:
    if args.real_cmd:
        port = free_port()
        cmd = shlex.split(args.real_cmd.format(port=port))
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_api(url)
        return Target("toxiproxy", url, process.pid, process)
    url = os.environ.get("TOXIPROXY_URL")
    if url:
        pid = os.environ.get("TOXIPROXY_PID")
        return Target("toxiproxy", url.rstrip("/"), int(pid) if pid else None)
    return None


# -- measurements --------------------------------------------------------------------------
def throughput(addr: str, seconds: float) -> float:
    """MB/s read from the source server through `addr`."""
    buf = bytearray(1024 * 1024)
    view = memoryview(buf)
    with socket.create_connection(split(addr), timeout=10) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        warm_until = time.monotonic() + 0.3
        while time.monotonic() < warm_until:
            sock.recv_into(view)
        total = 0
        start = time.monotonic()
        end = start + seconds
        while (now := time.monotonic()) < end:
            n = sock.recv_into(view)
            if not n:
                break
            total += n
        return total / (now - start) / 1e6


def round_trips(addr: str, count: int, size: int = 64, warmup: int = 100) -> list[float]:
    payload = os.urandom(size)
    samples = []
    with socket.create_connection(split(addr), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(count + warmup):
            start = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < size:
                got += len(sock.recv(size - got))
            if i >= warmup:
                samples.append(time.perf_counter() - start)
    return samples


async def _hold(
    addr: str, conns: int, seconds: float, errors: list[str], opened: threading.Event
) -> None:
    host, port = split(addr)
    streams = []
    sem = asyncio.Semaphore(64)

    async def open_one(i):
        async with sem:
            try:
                streams.append(await asyncio.wait_for(asyncio.open_connection(host, port), 10))
            except (TimeoutError, OSError) as exc:
                errors.append(f"connect {i}: {exc!r}")

    await asyncio.gather(*(open_one(i) for i in range(conns)))
    opened.set()
    end = time.monotonic() + seconds

    async def run(index, reader, writer):
        payload = b"%032d" % index
        await asyncio.sleep((index % 100) / 100)
        while time.monotonic() < end:
            try:
                writer.write(payload)
                got = await asyncio.wait_for(reader.readexactly(len(payload)), 5)
                if got != payload:
                    errors.append(f"conn {index}: wrong bytes")
                    return
            except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                errors.append(f"conn {index}: {exc!r}")
                return
            await asyncio.sleep(1.0)

    await asyncio.gather(*(run(i, r, w) for i, (r, w) in enumerate(streams)))
    for _, writer in streams:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for _, w in streams), return_exceptions=True)


def hold(addr: str, conns: int, seconds: float, pid: int | None) -> dict[str, object]:
    errors: list[str] = []
    opened = threading.Event()
    before = rss_kib(pid)
    samples: list[int] = []

    def sample_rss():
        opened.wait(60)
        while opened.is_set():
            if (value := rss_kib(pid)) is not None:
                samples.append(value)
            time.sleep(1)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    start = time.monotonic()
    uvloop.run(_hold(addr, conns, seconds, errors, opened))
    elapsed = time.monotonic() - start
    opened.clear()
    sampler.join(3)
    time.sleep(1.0)
    after = rss_kib(pid)
    return {
        "errors": len(errors),
        "first_errors": errors[:3],
        "rss_before_kib": before,
        "rss_held_first_kib": samples[0] if samples else None,
        "rss_held_last_kib": samples[-1] if samples else None,
        "rss_peak_kib": max(samples) if samples else None,
        "rss_after_kib": after,
        "elapsed_s": round(elapsed, 1),
    }


def setup(target: Target, ports: tuple[int, int]) -> None:
    echo_up, source_up = f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"
    if target.url is None:
        target.echo, target.source = echo_up, source_up
        return
    api = target.api = ToxiproxyClient(target.url, timeout=10)
    for name in list(api.proxies()):
        if name.startswith("bench_"):
            api.delete_proxy(name)
    target.echo = api.create_proxy("bench_echo", "127.0.0.1:0", echo_up).listen
    target.source = api.create_proxy("bench_source", "127.0.0.1:0", source_up).listen


def teardown(target: Target) -> None:
    if target.api is not None:
        target.api.delete_proxy("bench_echo")
        target.api.delete_proxy("bench_source")
        target.api.close()


def run_all(targets: list[Target], args: argparse.Namespace) -> None:
    """Each measurement interleaves the targets, so load changes on the machine hit all alike."""
    proxies = [t for t in targets if t.api is not None]
    log("throughput")
    runs: dict[str, list[float]] = {t.name: [] for t in targets}
    for _ in range(args.repeat):
        for t in targets:
            runs[t.name].append(throughput(t.source, args.seconds))
    for t in targets:
        t.results["throughput_mb_s"] = statistics.median(runs[t.name])
    log("throughput with a 10 ms latency toxic")
    for t in proxies:
        t.api.add_toxic("bench_source", "latency", attributes={"latency": 10})
    runs = {t.name: [] for t in proxies}
    for _ in range(args.repeat):
        for t in proxies:
            runs[t.name].append(throughput(t.source, args.seconds))
    for t in proxies:
        t.results["throughput_latency10_mb_s"] = statistics.median(runs[t.name])
        t.api.remove_toxic("bench_source", "latency_downstream")
    log("round trips")
    rtts: dict[str, list[float]] = {t.name: [] for t in targets}
    rounds = 5
    for _ in range(rounds):
        for t in targets:
            rtts[t.name].extend(round_trips(t.echo, args.rtt_count // rounds))
    for t in targets:
        t.results["rtt_p50_us"] = pct(rtts[t.name], 0.5) * 1e6
        t.results["rtt_p99_us"] = pct(rtts[t.name], 0.99) * 1e6
    for latency, full_count in ((50, 120), (200, 51), (500, 24)):
        log(f"latency accuracy at {latency} ms")
        count = max(6, full_count // 3) if args.quick else full_count
        samples: dict[str, list[float]] = {t.name: [] for t in proxies}
        for t in proxies:
            t.api.add_toxic("bench_echo", "latency", attributes={"latency": latency})
        for _ in range(3):
            for t in proxies:
                samples[t.name].extend(round_trips(t.echo, count // 3, warmup=1))
        for t in proxies:
            t.api.remove_toxic("bench_echo", "latency_downstream")
            base = t.results["rtt_p50_us"] / 1e6
            errors = [abs(x - base - latency / 1000) * 1e3 for x in samples[t.name]]
            t.results[f"lat{latency}_err_p50_ms"] = pct(errors, 0.5)
            t.results[f"lat{latency}_err_p99_ms"] = pct(errors, 0.99)
    for t in targets:
        log(f"{args.conns} connections held {args.hold:g}s via {t.name}")
        t.results["hold"] = hold(t.echo, args.conns, args.hold, t.pid)


def log(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def fmt(value: object, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def report(targets: list[Target], args: argparse.Namespace) -> None:
    direct, proxies = targets[0], targets[1:]
    d = direct.results
    print()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores; "
        f"throughput over {args.seconds}s x{args.repeat}, {args.rtt_count} round trips, "
        f"{args.conns} connections held {args.hold}s"
    )
    names = [t.name for t in proxies]
    print(f"{'metric':34}" + "".join(f"{n:>14}" for n in ["direct", *names]))
    rows = [
        ("throughput MB/s", "throughput_mb_s", 0),
        ("throughput, latency 10ms, MB/s", "throughput_latency10_mb_s", 0),
        ("round trip p50 us", "rtt_p50_us", 1),
        ("round trip p99 us", "rtt_p99_us", 1),
    ]
    for latency in (50, 200, 500):
        rows.append((f"latency {latency}ms |err| p50 ms", f"lat{latency}_err_p50_ms", 3))
        rows.append((f"latency {latency}ms |err| p99 ms", f"lat{latency}_err_p99_ms", 3))
    for label, key, digits in rows:
        values = [t.results.get(key) for t in targets]
        print(f"{label:34}" + "".join(f"{fmt(v, digits):>14}" for v in values))
    hold_rows = (
        ("hold: errors", "errors"),
        ("hold: proxy RSS first KiB", "rss_held_first_kib"),
        ("hold: proxy RSS last KiB", "rss_held_last_kib"),
        ("hold: proxy RSS peak KiB", "rss_peak_kib"),
    )
    for label, key in hold_rows:
        values = [t.results["hold"].get(key) for t in targets]
        print(f"{label:34}" + "".join(f"{fmt(v):>14}" for v in values))
    print()
    print("ratios")
    for t in proxies:
        r = t.results
        print(
            f"  {t.name}: throughput {r['throughput_mb_s'] / d['throughput_mb_s']:.2f}x direct; "
            f"added round trip p50 +{r['rtt_p50_us'] - d['rtt_p50_us']:.0f} us, "
            f"p99 +{r['rtt_p99_us'] - d['rtt_p99_us']:.0f} us"
        )
        held = r["hold"]
        if held.get("rss_held_first_kib") and held.get("rss_held_last_kib"):
            growth = held["rss_held_last_kib"] - held["rss_held_first_kib"]
            print(
                f"  {t.name}: {held['errors']} errors with {args.conns} connections; RSS growth "
                f"while held {growth} KiB"
            )
        if held["first_errors"]:
            print(f"    first errors: {held['first_errors']}")
    if len(proxies) == 2:
        ours, real = (t.results for t in proxies)

        def ratio(a: float, b: float) -> str:
            return f"{a / b:.2f}x" if b > 0 else "n/a"

        added = {
            q: ratio(ours[f"rtt_{q}_us"] - d[f"rtt_{q}_us"], real[f"rtt_{q}_us"] - d[f"rtt_{q}_us"])
            for q in ("p50", "p99")
        }
        print(
            "  stormproof / toxiproxy: throughput "
            f"{ratio(ours['throughput_mb_s'], real['throughput_mb_s'])} (goal >= 2), with latency "
            f"{ratio(ours['throughput_latency10_mb_s'], real['throughput_latency10_mb_s'])} "
            f"(goal >= 1); added round trip p50 {added['p50']}, p99 {added['p99']} (goal <= 0.75)"
        )
        worst = {
            name: max(r[f"lat{latency}_err_p99_ms"] for latency in (50, 200, 500))
            for name, r in (("stormproof", ours), ("toxiproxy", real))
        }
        print(
            "  injected-latency |err| p99, worst of 50/200/500 ms: "
            f"stormproof {worst['stormproof']:.2f} ms, toxiproxy {worst['toxiproxy']:.2f} ms "
            "(goal <= 1 ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per throughput run")
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs (median)")
    parser.add_argument("--rtt-count", type=int, default=5000)
    parser.add_argument("--conns", type=int, default=1000)
    parser.add_argument("--hold", type=float, default=30.0, help="seconds to hold connections")
    parser.add_argument("--quick", action="store_true", help="fewer latency samples")
    parser.add_argument("--real-cmd", help="command starting a real Toxiproxy; {port} = API port")
    parser.add_argument("--serve-upstream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstreams()
        return
    upstream = subprocess.Popen(
        [sys.executable, __file__, "--serve-upstream"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert upstream.stdout is not None
    *ports, web_port = (int(p) for p in upstream.stdout.readline().split())
    targets = [Target("direct", None)]
    try:
        targets.append(start_stormproof())
        real = start_real(args)
        if real is not None:
            targets.append(real)
        for target in targets:
            setup(target, (ports[0], ports[1]))
        run_all(targets, args)
        log("http toxic round trips")
        stormproof = next(t for t in targets if t.name == "stormproof")
        assert stormproof.api is not None
        http = _bench_http.measure(
            stormproof.api, f"127.0.0.1:{web_port}", args.rtt_count, stormproof.pid
        )
        report(targets, args)
        _bench_http.report(http)
        for target in targets:
            teardown(target)
    finally:
        for target in targets:
            target.stop()
        upstream.terminate()
        upstream.wait(10)


if __name__ == "__main__":
    main()
