"""What the child-process default costs at start-up: `stormproof run` wall time, both ways.

The embedded proxy and the providers run in processes of their own by default (the client under
test owns the test process); `--in-process` keeps them in threads of it, as before. Each round
runs one small scenario both ways, alternately, in fresh processes; the medians and their ratio
are printed.

    python benchmarks/bench_startup.py [--rounds 3] [--select users-503-then-success]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(select: str, *, in_process: bool) -> float:
    """Wall seconds of one `stormproof run` (chaos only, no HTML), checked to pass."""
    with tempfile.TemporaryDirectory() as work:
        args = [sys.executable, "-m", "stormproof.chaos.cli", "run", "--no-contracts", "--no-html",
                "--select", select, "--output", os.path.join(work, "results")]  # fmt: skip
        if in_process:
            args.append("--in-process")
        env = {**os.environ, "PACT_DO_NOT_TRACK": "true"}
        env.pop("TOXIPROXY_URL", None)
        started = time.perf_counter()
        done = subprocess.run(
            args, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"stormproof run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--select", default="users-503-then-success")
    args = parser.parse_args()
    children, threads = [], []
    for _ in range(args.rounds):
        children.append(run_once(args.select, in_process=False))
        threads.append(run_once(args.select, in_process=True))
    child, thread = statistics.median(children), statistics.median(threads)
    print(f"stormproof run, child processes (default): median {child:.2f} s")
    print(f"stormproof run, in process (before): median {thread:.2f} s")
    print(f"ratio child/in-process: {child / thread:.2f} (+{child - thread:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
