"""Run the chaos scenarios (or the fault matrix) several times and report each changed verdict.

Each round starts a fresh embedded environment (Toxiproxy and the three providers) and runs
every scenario with the same seed, exactly as ``stormproof run --no-contracts`` judges them. A
scenario that passes in one round and fails in another is flaky; the report names it with the
failure of each failing round. It also lists the tightest timing margins seen (how close a
call came to its deadline plus the profile's tolerance, or to an ``elapsed_s`` bound), which is
where flakes come from on a busy machine.

Usage:
    python scripts/flakiness.py                    # 5 rounds of chaos/scenarios, seed 0
    python scripts/flakiness.py --rounds 10 --select payments
    python scripts/flakiness.py --vary-seed        # round i uses seed i (seed-dependent verdicts)
    python scripts/flakiness.py --json flakiness.json
    python scripts/flakiness.py --ballast 3000000   # with long garbage-collector pauses
    python scripts/flakiness.py --matrix           # 5 runs of `stormproof matrix` (its workers)

With ``--matrix`` each round is one ``stormproof matrix`` run (every case of the contract-derived
fault matrix, in its worker processes), and the verdicts are read from its Allure results; the
timing margins are not reported in that mode.

Exits 1 when a verdict changed (or a scenario failed in every round), else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stormproof.chaos.runner import ScenarioResult, ScenarioRunner, run_scenarios, start_environment  # noqa: E402
from stormproof.chaos.scenario import default_scenario_dir, load_scenarios, matches_selection  # noqa: E402


@dataclass
class History:
    """One scenario's verdicts across the rounds."""

    verdicts: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    margins: list[tuple[float, str]] = field(default_factory=list)

    @property
    def flipped(self) -> bool:
        return len(set(self.verdicts)) > 1


def margins(result: ScenarioResult) -> list[tuple[float, str]]:
    """Seconds each timed expectation had to spare (negative: it did not hold).

    Every call is held to its deadline plus the profile's tolerance; calls with ``elapsed_s``
    bounds are held to those too.
    """
    profile = result.scenario.profile
    limit = profile.deadline_s + result.scenario.deadline_tolerance_s
    found: list[tuple[float, str]] = []
    for phase, record in zip(result.scenario.phases, result.phases, strict=False):
        expected = [call.expect for call in phase.calls for _ in range(call.times)]
        for expect, call in zip(expected, record.calls, strict=False):
            if expect.within_deadline:
                found.append((limit - call.elapsed_s, f"{call.label}: deadline + tolerance"))
            bounds = expect.elapsed_s
            if bounds is not None and bounds.max is not None:
                found.append((bounds.max - call.elapsed_s, f"{call.label}: elapsed_s max"))
            if bounds is not None and bounds.min is not None:
                found.append((call.elapsed_s - bounds.min, f"{call.label}: elapsed_s min"))
    return found


def matrix_round(seed: int, select: str | None, workers: int | None) -> dict[str, tuple[str, str]]:
    """One `stormproof matrix` run: each case's (verdict, failure message)."""
    with tempfile.TemporaryDirectory(prefix="stormproof-flakiness-") as work:
        results = Path(work) / "results"
        command = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()"]
        command += ["matrix", "--no-html", "--output", str(results), "--seed", str(seed)]
        command += ["--select", select] if select else []
        command += ["--workers", str(workers)] if workers else []
        env = {**os.environ, "PACT_DO_NOT_TRACK": "true"}
        subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        found = {}
        for path in results.glob("*-result.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("fullName") == "stormproof.matrix.coverage":
                continue  # the summary test with the grid, not a case
            message = str((data.get("statusDetails") or {}).get("message") or "")
            verdict = {"passed": "passed", "failed": "failed", "skipped": "skipped"}
            found[data["name"]] = (verdict.get(data["status"], "broken"), message)
        return found


def run_matrix_rounds(args: argparse.Namespace) -> dict[str, History]:
    """Every round of the `--matrix` mode, as histories by case."""
    history: dict[str, History] = defaultdict(History)
    for round_number in range(args.rounds):
        seed = args.seed + round_number if args.vary_seed else args.seed
        began = time.monotonic()
        found = matrix_round(seed, args.select, args.workers)
        for name, (verdict, message) in found.items():
            history[name].verdicts.append(verdict)
            if verdict != "passed":
                history[name].failures.append(f"round {round_number + 1}: {verdict}: {message}")
        passed = sum(verdict == "passed" for verdict, _ in found.values())
        print(
            f"round {round_number + 1}: {passed}/{len(found)} matrix cases passed "
            f"(seed {seed}, {time.monotonic() - began:.1f} s)",
            flush=True,
        )
    return history


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vary-seed", action="store_true", help="round i uses seed + i")
    parser.add_argument("--select", help="scenario name, service, tag or fault kind")
    parser.add_argument("--scenarios", type=Path, default=default_scenario_dir())
    parser.add_argument("--json", type=Path, help="write the verdicts and margins here")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="proxy and providers in threads of this process (default: child processes)",
    )
    parser.add_argument(
        "--ballast",
        type=int,
        default=0,
        help="keep this many small objects alive (a heap like the test suite's: long GC passes)",
    )
    parser.add_argument(
        "--matrix", action="store_true", help="rounds of `stormproof matrix` (the derived cases)"
    )
    parser.add_argument("--workers", type=int, help="with --matrix: its worker processes")
    args = parser.parse_args()
    # Tracked containers make every full collection walk them, as in a big pytest process.
    ballast = [[n] for n in range(args.ballast)]

    history: dict[str, History] = defaultdict(History)
    if args.matrix:
        print(f"stormproof matrix x {args.rounds} rounds")
        history = run_matrix_rounds(args)
        scenarios = []
    else:
        scenarios = load_scenarios(args.scenarios)
    if args.select and not args.matrix:
        scenarios = [s for s in scenarios if matches_selection(s, args.select)]
    if not args.matrix:
        print(f"{len(scenarios)} scenarios x {args.rounds} rounds")
    for round_number in range(0 if args.matrix else args.rounds):
        seed = args.seed + round_number if args.vary_seed else args.seed
        began = time.monotonic()
        with start_environment(seed=seed, in_process=args.in_process) as environment:
            runner = ScenarioRunner(environment, seed=seed)
            results = run_scenarios(runner, scenarios)
        for result in results:
            entry = history[result.scenario.name]
            entry.verdicts.append(result.verdict)
            if not result.passed:
                why = result.failure_message() or result.inconclusive_message()
                entry.failures.append(f"round {round_number + 1}: {result.verdict}: {why}")
            entry.margins += margins(result)
        passed = sum(result.passed for result in results)
        print(
            f"round {round_number + 1}: {passed}/{len(results)} passed "
            f"(seed {seed}, {time.monotonic() - began:.1f} s)",
            flush=True,
        )

    if not history:
        print("no scenario or case ran: nothing to judge")
        return 1
    flaky = {name: h for name, h in history.items() if h.flipped}
    broken = {name: h for name, h in history.items() if "passed" not in h.verdicts}
    print()
    print(f"verdict changed: {len(flaky)} scenario(s)")
    for name, entry in sorted(flaky.items()):
        marks = "".join(verdict[0].upper() for verdict in entry.verdicts)
        print(f"  {name}: {marks}")
        for failure in entry.failures:
            print(f"    {failure}")
    print(f"not passed in any round: {len(broken)} scenario(s)")
    for name, entry in sorted(broken.items()):
        print(f"  {name}: {entry.failures[0]}")
    tightest = sorted(
        (spare, name, what) for name, h in history.items() for spare, what in h.margins
    )[:8]
    print(
        "tightest timing margins (seconds to spare):"
        if tightest
        else "timing margins: not measured"
    )
    for spare, name, what in tightest:
        print(f"  {spare:+.3f}  {name}  {what}")

    if args.json is not None:
        document = {
            name: {
                "verdicts": entry.verdicts,
                "failures": entry.failures,
                "min_margin_s": min((m for m, _ in entry.margins), default=None),
            }
            for name, entry in sorted(history.items())
        }
        args.json.write_text(json.dumps(document, indent=2), encoding="utf-8")
    del ballast
    return 1 if flaky or broken else 0


if __name__ == "__main__":
    sys.exit(main())
