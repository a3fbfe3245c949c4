"""The benchmarks run end to end with tiny parameters, so the commands of docs/reliability.md work.

These check that each benchmark measures and reports, not its figures: timing claims live in
the benchmarks themselves, as ratios against a baseline measured in the same run.
"""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

CASES = {
    "bench_clients.py": (
        ["--calls", "40", "--rounds", "2", "--per-thread", "4"],
        ["ratio 16/1 threads, resilient client:"],
    ),
    "bench_plugin_import.py": (["--runs", "1"], ["plugin import:", "goal <= 50 ms"]),
    "bench_matrix.py": (
        ["--select", "users.a-request-for-user-usr-1.503-after", "--workers", "2"],
        ["serial (--workers 1):", "parallel (--workers 2):", "ratio serial/parallel:"],
    ),
    "bench_startup.py": (["--rounds", "1"], ["ratio child/in-process:"]),
    "bench_load.py": (
        ["--connections", "20", "--pairs", "200"],
        ["unexpected errors: 0", "proxy connections: peak 20, after 0"],
    ),
    "bench_proxy_memory.py": (
        ["--mib", "0.25", "--only", "slicer"],
        ["slicer 1 B, 1 s apart", "result: ok"],
    ),
    "bench_proxy.py": (
        [
            "--quick",
            "--hold",
            "1",
            "--seconds",
            "0.2",
            "--repeat",
            "1",
            "--rtt-count",
            "200",
            "--conns",
            "20",
        ],
        [
            "latency 500ms |err| p99 ms",
            "stormproof: 0 errors with 20 connections",
            "added round trip, http toxic vs none:",
            "proxy CPU per round trip: no toxic",
            "requests/s through a matching http status toxic:",
        ],
    ),
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_and_reports(script):
    args, expected = CASES[script]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for line in expected:
        assert line in done.stdout, done.stdout[-2000:]
