"""What loading the stormproof pytest plugin costs every pytest session of an environment.

Each figure is a fresh interpreter that has already imported pytest, timed from there:
(1) the plugin module as pytest loads it (goal: <= 50 ms, and none of aiohttp, allure, pact,
    fastapi imported); (2) the harness it loaded at start-up before it imported lazily (report,
    runner, scenarios, toxiproxy), the "before" baseline, in the same run. Median of N runs each.

    python benchmarks/bench_plugin_import.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

HEAVY = ("aiohttp", "allure", "pact", "fastapi", "uvicorn", "requests", "pydantic")

PROBE = """
import json, sys, time
import pytest
before = set(sys.modules)
start = time.perf_counter()
for name in {modules!r}:
    __import__(name)
elapsed = time.perf_counter() - start
loaded = set(sys.modules) - before
heavy = sorted({{m.split(".")[0] for m in loaded}} & set({heavy!r}))
print(json.dumps({{"seconds": elapsed, "modules": len(loaded), "heavy": heavy}}))
"""

PLUGIN = ["stormproof.chaos.pytest_plugin"]
HARNESS = [
    "stormproof.chaos.pytest_plugin",
    "stormproof.chaos.report",
    "stormproof.chaos.runner",
    "stormproof.chaos.scenario",
    "stormproof.chaos.toxiproxy",
]


def measure(modules: list[str], runs: int) -> tuple[float, int, list[str]]:
    """Median seconds, modules loaded and heavy packages among them, over `runs` interpreters."""
    samples = []
    for _ in range(runs):
        code = PROBE.format(modules=modules, heavy=HEAVY)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
        )
        samples.append(json.loads(out.stdout))
    median = statistics.median(s["seconds"] for s in samples)
    return median, samples[-1]["modules"], samples[-1]["heavy"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    plugin_s, plugin_n, plugin_heavy = measure(PLUGIN, args.runs)
    harness_s, harness_n, harness_heavy = measure(HARNESS, args.runs)
    print(f"plugin import: {plugin_s * 1000:.1f} ms, {plugin_n} modules, heavy: {plugin_heavy}")
    print(f"harness at start-up (before): {harness_s * 1000:.1f} ms, {harness_n} modules, "
          f"heavy: {harness_heavy}")  # fmt: skip
    print(f"ratio plugin/before: {plugin_s / harness_s:.3f} (time), {plugin_n / harness_n:.3f} "
          "(modules)")  # fmt: skip
    met = plugin_s <= 0.050 and not plugin_heavy
    print(f"goal <= 50 ms and no heavy import: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
