"""Running one scenario: clean slate, phases (faults on, calls, faults off), judgement, rollback."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from stormproof.chaos._options import Weakening
from stormproof.chaos.runner import _categories as category
from stormproof.chaos.runner._clients import build_client, policy_for
from stormproof.chaos.runner._environment import ChaosEnvironment
from stormproof.chaos.runner._gc import collector_paused
from stormproof.chaos.runner._http_route import HTTP_TOXIC, proxy_makes_http_faults
from stormproof.chaos.runner._injector import FaultInjector, describe_fault
from stormproof.chaos.runner._inputs import InputReferenceError, render
from stormproof.chaos.runner._judge import judge_call, judge_phase, judge_side_effects, primary
from stormproof.chaos.runner._log_capture import capture_client_log
from stormproof.chaos.runner._observer import NullObserver, RunObserver
from stormproof.chaos.runner._recorder import EventRecorder
from stormproof.chaos.runner._records import CallRecord, Finding, PhaseRecord, Witness
from stormproof.chaos.scenario import OK, Call, Fault, HttpFault, Phase, Scenario, ToxicFault
from stormproof.chaos.scenario._calls import client_operations
from stormproof.chaos.services import ProviderAdapter
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError
from stormproof.clients import Runtime, ServiceClient

logger = logging.getLogger("stormproof.chaos")

Verdict = Literal["passed", "failed", "inconclusive", "skipped"]


@dataclass
class ScenarioResult:
    """Everything a scenario run produced: records, findings and what the provider saw."""

    scenario: Scenario
    seed: int
    phases: list[PhaseRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    elapsed_s: float = 0.0
    provider_state: dict[str, Any] = field(default_factory=dict)
    #: Why the scenario was not run at all (a fault this backend and provider cannot make).
    skip_reason: str | None = None
    client_log: list[str] = field(default_factory=list)

    @property
    def unfired(self) -> list[tuple[str, Witness]]:
        """The faults that never fired, with the phase that applied them."""
        return [(p.name, w) for p in self.phases for w in p.witnesses if not w.fired]

    @property
    def verdict(self) -> Verdict:
        """`failed` when an expectation broke; else `inconclusive` when a fault never fired (the
        run proves nothing about the client); else `passed`."""
        if self.skip_reason is not None:
            return "skipped"
        if self.findings:
            return "failed"
        return "inconclusive" if self.unfired else "passed"

    @property
    def passed(self) -> bool:
        """True when every expectation held and every fault fired."""
        return self.verdict == "passed"

    @property
    def inconclusive(self) -> bool:
        """True when nothing failed but some fault never fired."""
        return self.verdict == "inconclusive"

    def inconclusive_message(self) -> str:
        """Which faults never fired, phase by phase, with the evidence looked at."""
        return "\n".join(
            f"phase '{phase}': {w.fault}: {w.evidence} ({w.strength})" for phase, w in self.unfired
        )

    @property
    def primary(self) -> Finding | None:
        """The finding that names the failure (None when the scenario passed)."""
        return primary(self.findings)

    @property
    def calls(self) -> list[CallRecord]:
        """Every call of every phase, in order."""
        return [call for phase in self.phases for call in phase.calls]

    @property
    def breaker_path(self) -> list[str]:
        """The breaker states across the whole run."""
        path: list[str] = []
        for phase in self.phases:
            for state in phase.breaker_path:
                if not path or path[-1] != state:
                    path.append(state)
        return path

    def failure_message(self) -> str:
        """All findings, the primary one first, as a reviewer reads them."""
        lead = self.primary
        if lead is None:
            return ""
        rest = [f for f in self.findings if f is not lead]
        lines = [f"{lead.category}: {lead.message}"]
        lines += [f"{f.category}: {f.message}" for f in rest]
        return "\n".join(lines)


def scenario_seed(seed: int, name: str) -> int:
    """A stable per-scenario seed derived from the run's seed and the scenario's name."""
    return (seed * 1_000_003 + zlib.crc32(name.encode())) & 0xFFFFFFFF


class ScenarioRunner:
    """Runs scenarios against a `ChaosEnvironment` and judges them.

    Args:
        environment: Where to run.
        seed: The run's seed (per-scenario seeds derive from it).
        observer: Receives steps, judgements and attachments (Allure, progress).
        weaken: Test-only: make the client worse to prove the scenarios catch it.
        pictures: Draw the timeline picture of every scenario (`always`) or only of one that
            did not pass (`unless-passed`: a matrix's hundreds of green cases need none). None
            is drawn when no observer keeps attachments.
    """

    def __init__(
        self,
        environment: ChaosEnvironment,
        *,
        seed: int = 0,
        observer: RunObserver | None = None,
        weaken: Weakening | None = None,
        pictures: Literal["always", "unless-passed"] = "always",
    ) -> None:
        self.environment = environment
        self.seed = seed
        self.observer: RunObserver = observer or NullObserver()
        self.weaken = weaken
        self.pictures = pictures
        self.toxiproxy = ToxiproxyClient(environment.toxiproxy_url)
        self._proxy_http: bool | None = None  # whether the proxy has the http toxic, asked once

    def _proxy_has_http(self, faults: Sequence[Fault], proxy: str) -> bool:
        needs = any(
            isinstance(f, HttpFault) or (isinstance(f, ToxicFault) and f.toxic == HTTP_TOXIC)
            for f in faults
        )
        if self._proxy_http is None and needs:
            try:
                self._proxy_http = proxy_makes_http_faults(self.toxiproxy, proxy)
            except ToxiproxyError:
                return False  # asked again by the next scenario that needs it
        return bool(self._proxy_http)

    def run(self, scenario: Scenario) -> ScenarioResult:
        """Run one scenario; faults are always rolled back, even on errors or interrupts."""
        seed = scenario_seed(self.seed, scenario.name)
        result = ScenarioResult(scenario=scenario, seed=seed)
        endpoint = self.environment.endpoint(scenario.service)
        adapter = self.environment.adapter(scenario.service)
        faults = [f for p in scenario.phases for f in p.faults]
        proxy_http = self._proxy_has_http(faults, endpoint.proxy)
        injector = FaultInjector(self.toxiproxy, endpoint, adapter, proxy_http=proxy_http)
        result.skip_reason = injector.cannot_apply(faults)
        if result.skip_reason is not None:
            return result
        started = time.monotonic()
        try:
            with capture_client_log(scenario.service) as log_lines, collector_paused():
                try:
                    self._run_phases(scenario, result, injector, adapter, seed)
                finally:
                    problems = injector.lift()
                    found = injector.leftovers()
                    problems += [f"{item} after the scenario (removed now)" for item in found]
                    result.findings += [Finding(category.LEFTOVER_FAULT, p) for p in problems]
            result.client_log = log_lines
        except Exception as exc:  # the proxy, the provider's adapter, the inputs: not the client
            result.findings.append(Finding(category.HARNESS_ERROR, f"{type(exc).__name__}: {exc}"))
        result.elapsed_s = time.monotonic() - started
        self._attach(result)
        return result

    def _run_phases(
        self,
        scenario: Scenario,
        result: ScenarioResult,
        injector: FaultInjector,
        adapter: ProviderAdapter,
        seed: int,
    ) -> None:
        declaration = self.environment.config.service(scenario.service)
        client_class = declaration.client_class()
        known = client_operations(client_class)
        unknown = sorted({c.op for p in scenario.phases for c in p.calls} - set(known))
        if unknown:
            raise InputReferenceError(
                f"unknown operation(s) {', '.join(unknown)} for {client_class.__name__} "
                f"(known: {', '.join(sorted(known))})"
            )
        with self.observer.step("Clean slate: remove toxics, enable proxy, reset provider"):
            injector.clean_slate()
            for state in scenario.setup:
                adapter.set_state(state.state, state.params)
            bounds = scenario.expect.side_effects
            counted = [name for name, bound in bounds.items() if bound.max_new is not None]
            before = {name: sum(adapter.side_effects(name).values()) for name in counted}
        origin = time.monotonic()
        recorder = EventRecorder(origin)
        runtime = Runtime(random=random.Random(seed).random)
        policy = policy_for(scenario.profile, self.weaken)
        endpoint = self.environment.endpoint(scenario.service)
        client = build_client(
            client_class, endpoint.client_url, policy, recorder, runtime, weaken=self.weaken
        )
        saved: dict[str, Any] = {"seed": seed, "unique": f"{seed:08x}"}
        try:
            for phase in scenario.phases:
                record = self._run_phase(
                    scenario=scenario, phase=phase, client=client, recorder=recorder,
                    injector=injector, adapter=adapter, saved=saved, origin=origin,
                )  # fmt: skip
                result.phases.append(record)
                result.findings += record.call_findings
                phase_findings = judge_phase(phase.expect, record)
                self.observer.judged(f"Phase '{phase.name}' expectations", phase_findings)
                result.findings += phase_findings
                if phase.wait_after_s:
                    with self.observer.step(f"Wait {phase.wait_after_s:g} s"):
                        time.sleep(phase.wait_after_s)
        finally:
            client.close()
        result.provider_state = dict(adapter.snapshot())
        effects = judge_side_effects(scenario.expect, adapter, before)
        if scenario.expect != type(scenario.expect)():
            self.observer.judged("Provider-side effects", effects)
        result.findings += effects

    def _run_phase(
        self,
        *,
        scenario: Scenario,
        phase: Phase,
        client: ServiceClient,
        recorder: EventRecorder,
        injector: FaultInjector,
        adapter: ProviderAdapter,
        saved: dict[str, Any],
        origin: float,
    ) -> PhaseRecord:
        record = PhaseRecord(name=phase.name, breaker_start=client.breaker_state.name)
        with self.observer.step(f"Phase '{phase.name}'"):
            before = adapter.request_count()
            if phase.faults:
                with self.observer.step("Apply faults"):
                    for fault in phase.faults:
                        with self.observer.step(describe_fault(fault)):
                            injector.apply(fault)
            try:
                for call in phase.calls:
                    inputs = render(call.inputs, saved)
                    records = self._run_call(
                        client=client, call=call, inputs=inputs, phase=phase.name,
                        recorder=recorder, origin=origin,
                    )  # fmt: skip
                    for call_record in records:
                        findings = judge_call(
                            call.expect, call_record, scenario.profile,
                            scenario.deadline_tolerance_s,
                        )  # fmt: skip
                        self.observer.judged(_call_title(call_record), findings)
                        record.calls.append(call_record)
                        record.call_findings += findings
                    if call.save_as and records and records[-1].result is not None:
                        saved[call.save_as] = records[-1].result
                if phase.faults:
                    attempts = [a for c in record.calls for a in c.attempt_records]
                    record.witnesses = injector.witnesses(attempts)
                    self.observer.witnessed(record.witnesses)
            finally:
                if phase.faults:
                    with self.observer.step("Lift faults"):
                        problems = injector.lift()
                    if problems:
                        raise ToxiproxyError(0, "; ".join(problems))
            record.transitions = recorder.take_transitions()
            after = adapter.request_count()
            if before is not None and after is not None:
                record.provider_requests = after - before
        return record

    def _run_call(
        self,
        *,
        client: ServiceClient,
        call: Call,
        inputs: dict[str, Any],
        phase: str,
        recorder: EventRecorder,
        origin: float,
    ) -> list[CallRecord]:
        operation: Callable[..., Any] = getattr(client, call.op)

        def one(index: int, barrier: threading.Barrier | None) -> CallRecord:
            if barrier is not None:
                barrier.wait(timeout=10)
            return _call_once(
                operation=operation, op=call.op, inputs=inputs, phase=phase, index=index,
                recorder=recorder, origin=origin, client=client,
            )  # fmt: skip

        if call.concurrently and call.times > 1:
            barrier = threading.Barrier(call.times)
            with ThreadPoolExecutor(max_workers=call.times) as pool:
                futures = [pool.submit(one, i, barrier) for i in range(call.times)]
                return [f.result() for f in futures]
        return [one(i, None) for i in range(call.times)]

    def _attach(self, result: ScenarioResult) -> None:
        from stormproof.chaos.report import (  # noqa: PLC0415 - avoid a cycle
            timeline_html,
            timeline_json,
            timeline_png,
        )

        records = {record.name: record for record in result.phases}
        faults = [
            {
                "phase": phase.name,
                "faults": [_effective(fault) for fault in phase.faults],
                "evidence": [
                    dataclasses.asdict(w) for w in getattr(records.get(phase.name), "witnesses", [])
                ],
            }
            for phase in result.scenario.phases
            if phase.faults
        ]
        self.observer.attach("faults.json", json.dumps(faults, indent=2), "application/json")
        self.observer.attach("timeline.json", timeline_json(result), "application/json")
        # Drawing costs a few hundred ms of CPU: not for nobody, nor for a green matrix case.
        wanted = self.pictures == "always" or not result.passed
        if wanted and not isinstance(self.observer, NullObserver):
            picture = timeline_png(result)
            self.observer.attach("timeline.png", picture, "image/png")
            self.observer.attach("timeline.html", timeline_html(result, picture), "text/html")
        if result.client_log:
            self.observer.attach("client-log.jsonl", "\n".join(result.client_log), "text/plain")
        if result.provider_state:
            body = json.dumps(result.provider_state, indent=2, default=str)
            self.observer.attach(
                f"{result.scenario.service}-provider-state.json", body, "application/json"
            )


def _effective(fault: Fault) -> dict[str, Any]:
    """A fault with every value the proxy or provider applies, defaults included."""
    values = fault.model_dump(mode="json")
    if isinstance(fault, ToxicFault):
        values.update(attributes=fault.effective_attributes, name=fault.toxic_name)
    return values


def _call_title(record: CallRecord) -> str:
    return (
        f"{record.label} → {record.outcome} ({record.attempts} attempt(s), "
        f"{record.elapsed_s:.2f} s, breaker {record.breaker_after})"
    )


def _call_once(
    *,
    operation: Callable[..., Any],
    op: str,
    inputs: dict[str, Any],
    phase: str,
    index: int,
    recorder: EventRecorder,
    origin: float,
    client: ServiceClient,
) -> CallRecord:
    started = time.monotonic()
    outcome, error, value = OK, None, None
    try:
        returned = operation(**inputs)
        if isinstance(returned, Iterator):  # iter_users: walking the pages is the call
            returned = {"items": [item.model_dump(mode="json") for item in returned]}
        if isinstance(returned, BaseModel):
            value = returned.model_dump(mode="json")
        elif isinstance(returned, dict):
            value = returned
    except Exception as exc:
        outcome, error = type(exc).__name__, str(exc)
    elapsed = time.monotonic() - started
    taken = recorder.take_calls()
    if not taken:
        return CallRecord(
            phase=phase, op=op, index=index, outcome=outcome, attempts=0, elapsed_s=elapsed,
            offset_s=started - origin, breaker_after=client.breaker_state.name,
            idempotency_key=None, error=error, result=value,
        )  # fmt: skip
    last, _ = taken[-1]
    return CallRecord(
        phase=phase,
        op=op,
        index=index,
        outcome=outcome,
        attempts=sum(event.attempts for event, _ in taken),
        elapsed_s=elapsed if len(taken) > 1 else last.elapsed_s,
        offset_s=started - origin,
        breaker_after=last.breaker_state.name,
        idempotency_key=last.idempotency_key,
        error=error,
        attempt_records=tuple(a for _, attempts in taken for a in attempts),
        result=value,
    )


def run_scenarios(
    runner: ScenarioRunner,
    scenarios: Sequence[Scenario],
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> list[ScenarioResult]:
    """Run scenarios one after another (they share the proxy and providers)."""
    results = []
    for scenario in scenarios:
        result = runner.run(scenario)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
