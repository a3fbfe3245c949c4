"""Memory per connection of the embedded Toxiproxy under each toxic: RSS growth per byte in flight.

For each toxic, a fresh ``stormproof proxy`` process carries one connection whose upstream
never reads, while the client sends a payload (8 MiB by default) through a toxic set to hold
what it can. Prints the server's resident-memory growth next to the bytes in flight and their
ratio, with the no-toxic case as the baseline of the same run; exits non-zero when a ratio is
above the goal (8x).

Usage:
    python benchmarks/bench_proxy_memory.py              # 8 MiB per toxic
    python benchmarks/bench_proxy_memory.py --mib 32 --only slicer

Everything listens on 127.0.0.1. Linux only (reads /proc). The figures are one connection's:
RSS also moves with the allocator, so small payloads give noisy ratios.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.toxiproxy._memory import CASES, measure  # noqa: E402

GOAL = 8.0
MIB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=8.0, help="payload per toxic, in MiB")
    parser.add_argument("--only", help="only the cases whose label contains this text")
    args = parser.parse_args()

    cases = [case for case in CASES if args.only is None or args.only in case.label]
    print(f"payload {args.mib:g} MiB per case; goal: RSS growth <= {GOAL:g}x the bytes in flight")
    print(f"{'toxic':<24}{'sent MiB':>10}{'in flight':>11}{'RSS growth':>12}{'ratio':>8}")
    failures = []
    for case in cases:
        result = measure(case, int(args.mib * MIB))
        print(
            f"{case.label:<24}{result.sent / MIB:>10.2f}{result.in_flight / MIB:>11.2f}"
            f"{result.growth / MIB:>12.2f}{result.ratio:>8.2f}"
        )
        if result.ratio > GOAL:
            failures.append(f"{case.label}: {result.ratio:.1f}x")
    print("result:", "FAILED: " + "; ".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
