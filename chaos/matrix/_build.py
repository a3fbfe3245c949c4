"""Build the fault matrix: every interaction of a service's pacts x every fault class, each cell
a scenario (the same model as a hand-written file, so it runs, reports and emits as one)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stormproof.chaos.matrix._interactions import Interaction, match_operation, read_interactions
from stormproof.chaos.matrix._rules import (
    RULES,
    FaultClass,
    Plan,
    Subject,
    transient_reason,
)
from stormproof.chaos.pact import pact_files_by_provider
from stormproof.chaos.scenario import SCENARIO_POLICY, Scenario
from stormproof.chaos.scenario._calls import declared_operations
from stormproof.chaos.scenario._model import merge
from stormproof.chaos.scenario._schema import SCHEMA_FILE
from stormproof.chaos.services import ConfigError, ProjectConfig, ServiceDeclaration
from stormproof.clients import ResiliencePolicy

__all__ = ["Excluded", "Matrix", "MatrixCase", "build_matrix", "case_yaml", "emit_case"]


@dataclass(frozen=True)
class MatrixCase:
    """One cell: an interaction under a fault class, as a runnable scenario.

    Attributes:
        service: The declared service.
        interaction: The pact interaction.
        fault: The fault class.
        scenario: The derived scenario.
        document: The scenario in the file format (what `--emit` writes).
    """

    service: str
    interaction: Interaction
    fault: FaultClass
    scenario: Scenario
    document: Mapping[str, Any]


@dataclass(frozen=True)
class Excluded:
    """A cell, row or service the matrix leaves out, and why (shown, never silently dropped)."""

    service: str
    interaction: str | None
    fault: str | None
    reason: str


@dataclass(frozen=True)
class Matrix:
    """The cases derived from the pacts, and what was left out."""

    cases: tuple[MatrixCase, ...]
    excluded: tuple[Excluded, ...] = field(default=())


def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "interaction"


def _case_name(service: str, interaction: Interaction, fault: FaultClass) -> str:
    return f"matrix.{service}.{_slug(interaction.description)}.{fault.name}"


def _document(
    declaration: ServiceDeclaration,
    subject: Subject,
    fault: FaultClass,
    plan: Plan,
    override: Mapping[str, Any] | None,
) -> dict[str, Any]:
    interaction, operation = subject.interaction, subject.operation
    matched = match_operation(interaction, {operation.name: operation})
    assert matched is not None  # the subject was built from this match
    inputs = matched[1]
    call: dict[str, Any] = {"op": operation.name, "with": inputs, "expect": plan.expect}
    reason = None
    if override:
        fields = dict(override)
        reason = fields.pop("because")
        call["expect"] = {**plan.expect, **fields}
    again = {"op": operation.name, "with": inputs}
    faulty: dict[str, Any] = {
        "name": fault.title,
        "faults": plan.faults,
        "calls": [call, *({**again, "expect": then} for then in plan.then)],
        "expect": plan.phase_expect,
    }
    if plan.wait_after_s:
        faulty["wait_after_s"] = plan.wait_after_s
    phases: list[dict[str, Any]] = [faulty]
    # Called again only when the faulty phase ended otherwise than the contract says.
    if plan.recover and plan.expect["outcome"] != subject.contract:
        recovered = {"outcome": subject.contract, "attempts": 1}
        phases.append({"name": "recovered", "calls": [{**again, "expect": recovered}]})
    adapter = declaration.adapter_class()
    expect: dict[str, Any] = {"invariants": sorted(adapter.INVARIANTS)}
    if subject.keyed:
        # One logical call and its retries, all with one key: at most one effect of each kind.
        once = {"max_per_key": 1, "max_new": 1}
        expect["side_effects"] = dict.fromkeys(sorted(adapter.SIDE_EFFECTS), once)
    safety = "retry-safe" if subject.safe else "not-retry-safe"
    return {
        "name": _case_name(declaration.name, interaction, fault),
        "service": declaration.name,
        "description": (
            f"Derived from the pact interaction {interaction.description!r} "
            f"({interaction.method} {interaction.path} -> {interaction.status}) under "
            f"{fault.title}: {plan.because}."
            + (f" Overridden in the configuration: {reason}" if reason else "")
        ),
        "tags": ["matrix", fault.name, safety, *(["keyed"] if subject.keyed else [])],
        "profile": _profile(subject.policy, plan.profile),
        "setup": [
            {"state": name, **({"params": dict(params)} if params else {})}
            for name, params in interaction.states
        ],
        "phases": phases,
        "expect": expect,
    }


def _profile(policy: ResiliencePolicy, extra: Mapping[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "connect_timeout_s": policy.connect_timeout_s,
        "read_timeout_s": policy.read_timeout_s,
        "deadline_s": policy.deadline_s,
        "retry": {
            "max_attempts": policy.retry.max_attempts,
            "initial_backoff_s": policy.retry.initial_backoff_s,
            "max_backoff_s": policy.retry.max_backoff_s,
            "max_retry_after_s": policy.retry.max_retry_after_s,
        },
        "breaker": {
            "failure_threshold": policy.breaker.failure_threshold,
            "reset_timeout_s": policy.breaker.reset_timeout_s,
        },
    }
    return merge(profile, dict(extra))


def _pact_files(config: ProjectConfig, declaration: ServiceDeclaration) -> list[Path]:
    if config.pacts is None or declaration.pact_provider is None:
        return []
    return pact_files_by_provider(config.pacts).get(declaration.pact_provider, [])


def service_cases(
    config: ProjectConfig,
    declaration: ServiceDeclaration,
    *,
    policy: ResiliencePolicy = SCENARIO_POLICY,
    faults: Sequence[FaultClass] = RULES,
    overrides: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    files: Iterable[Path] | None = None,
) -> tuple[list[MatrixCase], list[Excluded]]:
    """The cases of one service's pact interactions (or of the given pact `files`).

    Raises:
        ConfigError: A pact file cannot be read, or a derived scenario does not load.
    """
    name = declaration.name
    if overrides is None:
        overrides = _overrides(config, name)
    paths = list(files) if files is not None else _pact_files(config, declaration)
    if not paths:
        why = (
            "it declares no pact_provider"
            if declaration.pact_provider is None
            else (f"no pact file for provider {declaration.pact_provider!r}")
        )
        return [], [Excluded(name, None, None, why)]
    operations = declared_operations(declaration.client_class())
    cases: list[MatrixCase] = []
    excluded: list[Excluded] = []
    for path in paths:
        try:
            interactions = list(read_interactions(path))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        for interaction in interactions:
            matched = match_operation(interaction, operations)
            if matched is None:
                excluded.append(
                    Excluded(
                        name,
                        interaction.description,
                        None,
                        f"no operation of {declaration.client} sends "
                        f"{interaction.method} {interaction.path}",
                    )
                )
                continue
            operation = matched[0]
            reason = transient_reason(interaction, operation)
            if reason is not None:
                excluded.append(Excluded(name, interaction.description, None, reason))
                continue
            subject = Subject(interaction, operation, policy)
            for fault in faults:
                plan = fault.derive(subject)
                if isinstance(plan, str):
                    excluded.append(Excluded(name, interaction.description, fault.name, plan))
                    continue
                override = overrides.get((interaction.description, fault.name))
                document = _document(declaration, subject, fault, plan, override)
                # The model checks it; the call checks against the client (parse_scenario) run
                # in the tests for every case, not in each worker at start-up.
                scenario = Scenario.model_validate(document)
                cases.append(MatrixCase(name, interaction, fault, scenario, document))
    return cases, excluded


def build_matrix(
    config: ProjectConfig,
    *,
    services: Sequence[str] | None = None,
    policy: ResiliencePolicy = SCENARIO_POLICY,
) -> Matrix:
    """The matrix of the selected services (all declared ones by default).

    Raises:
        ConfigError: An unknown service is named, a pact cannot be read, a derived case does
            not load, or an override names no case.
    """
    names = list(services) if services else list(config.services)
    cases: list[MatrixCase] = []
    excluded: list[Excluded] = []
    for name in names:
        found, left = service_cases(config, config.service(name), policy=policy)
        cases += found
        excluded += left
    _check_overrides(config, names, cases)
    return Matrix(tuple(cases), tuple(excluded))


def _overrides(config: ProjectConfig, service: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (o.interaction, o.fault): {**o.expect, "because": o.reason}
        for o in config.matrix_overrides
        if o.service == service
    }


def _check_overrides(
    config: ProjectConfig, services: Sequence[str], cases: Sequence[MatrixCase]
) -> None:
    # An override that matches nothing would leave a derived expectation in force unseen.
    cells = {(c.service, c.interaction.description, c.fault.name) for c in cases}
    for override in config.matrix_overrides:
        if override.service not in services:
            continue
        if (override.service, override.interaction, override.fault) not in cells:
            rows = sorted({d for s, d, _ in cells if s == override.service})
            raise ConfigError(
                f"{config.source}: [[matrix.overrides]] {override.interaction!r} / "
                f"{override.fault!r} of {override.service} names no matrix case; fault classes: "
                f"{', '.join(rule.name for rule in RULES)}; interactions: {'; '.join(rows)}"
            )


def case_yaml(case: MatrixCase) -> str:
    """A case as the text of an editable scenario file (what `--emit` writes)."""
    text = yaml.safe_dump(dict(case.document), sort_keys=False, allow_unicode=True, width=100)
    header = (
        f"# yaml-language-server: $schema={SCHEMA_FILE}\n"
        "# Emitted by `stormproof matrix --emit`: an ordinary scenario file, edit it freely.\n"
    )
    return header + text


def emit_case(case: MatrixCase, folder: Path) -> Path:
    """Write a case as an editable scenario file in `folder`; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{case.scenario.name}.yaml"
    path.write_text(case_yaml(case), encoding="utf-8")
    return path
