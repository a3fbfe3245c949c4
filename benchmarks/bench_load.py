"""Load through the embedded Toxiproxy: 1,000 concurrent connections, 50,000 request/response pairs.

Every connection opens first (the proxy carries them all at once), then runs its pairs through
latency toxics both ways; a share of them go through a second proxy whose ``reset_peer`` toxic
(toxicity 0.5) resets them. Prints the figures and exits non-zero on any unexpected error, or
when the proxy does not return to its starting open file descriptors and asyncio tasks.

Usage:
    python benchmarks/bench_load.py                          # 1,000 connections, 50,000 pairs
    python benchmarks/bench_load.py --connections 200 --pairs 5000

Everything listens on 127.0.0.1. The proxy runs in a thread of this process, the echo upstream
and the clients on a uvloop loop in the main thread (so the figures include their cost too).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy  # noqa: E402
from tests.reliability._load import raise_fd_limit, run_load  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=50_000, help="pairs the latency proxy carries")
    parser.add_argument("--reset-share", type=float, default=0.1, help="share via reset_peer")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds before giving up")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    reset_connections = int(args.connections * args.reset_share)
    steady = args.connections - reset_connections
    per_connection = math.ceil(args.pairs / steady)
    limit = raise_fd_limit(4 * args.connections + 1024)
    print(
        f"RLIMIT_NOFILE soft limit: {limit} (hard {resource.getrlimit(resource.RLIMIT_NOFILE)[1]})"
    )
    print(f"{args.connections} connections x {per_connection} pairs, seed {args.seed}")

    with EmbeddedToxiproxy(seed=args.seed) as server:
        report = run_load(
            server,
            connections=args.connections,
            pairs=per_connection,
            reset_connections=reset_connections,
            deadline_s=args.deadline,
        )
    for line in report.lines():
        print(line)
    for problem in report.unexpected[:10]:
        print(f"  unexpected: {problem}")

    failures = []
    if report.unexpected:
        failures.append(f"{len(report.unexpected)} unexpected error(s)")
    if report.peak is None or report.peak.connections < args.connections:
        failures.append("the proxy never held every connection at once")
    if report.pairs < args.pairs:
        failures.append(f"only {report.pairs} pairs completed (wanted {args.pairs})")
    if report.after is None or report.before is None or report.after.connections:
        failures.append("connections left open on the proxy")
    elif report.after.tasks != report.before.tasks:
        failures.append(f"tasks {report.before.tasks} -> {report.after.tasks}")
    if report.sockets_left:
        failures.append(f"{len(report.sockets_left)} sockets of the load left open")
    if report.fds_after != report.fds_before:  # alone in its process, the count must match too
        failures.append(f"open fds {report.fds_before} -> {report.fds_after}")
    print("result:", "FAILED: " + "; ".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
