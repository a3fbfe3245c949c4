"""The fault matrix's wall time, serially and with its default workers, in one run.

`stormproof matrix` runs every case of the contract-derived matrix; with `--workers 1` they run
one after another in the command's process, by default in worker processes that each have their
own proxy and providers. Both are timed here, one after the other, and printed side by side with
their ratio and the goal for the bundled services (all cases within 60 s with the default
workers, on a 2-core machine).

    python benchmarks/bench_matrix.py [--select TEXT] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

GOAL_S = 60.0


def run_once(workers: int | None, select: str | None) -> tuple[float, str]:
    """Wall seconds of one `stormproof matrix` run and its last line, checked to pass."""
    with tempfile.TemporaryDirectory() as work:
        args = [sys.executable, "-m", "stormproof.chaos.cli", "matrix", "--no-html",
                "--output", os.path.join(work, "results")]  # fmt: skip
        args += ["--workers", str(workers)] if workers else []
        args += ["--select", select] if select else []
        env = {**os.environ, "PACT_DO_NOT_TRACK": "true"}
        env.pop("TOXIPROXY_URL", None)
        began = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        took = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"stormproof matrix failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return took, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", help="only these cases (as `stormproof matrix --select`)")
    parser.add_argument("--workers", type=int, help="the parallel run's workers (its default)")
    args = parser.parse_args()
    serial, _ = run_once(1, args.select)
    parallel, summary = run_once(args.workers, args.select)
    print(summary)
    print(f"serial (--workers 1): {serial:.1f} s")
    print(f"parallel ({f'--workers {args.workers}' if args.workers else 'default workers'}): "
          f"{parallel:.1f} s")  # fmt: skip
    print(f"ratio serial/parallel: {serial / parallel:.2f}x")
    if not args.select:
        verdict = "met" if parallel <= GOAL_S else "NOT met"
        print(f"goal: the whole matrix within {GOAL_S:.0f} s with the default workers: {verdict}")


if __name__ == "__main__":
    main()
