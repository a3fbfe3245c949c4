"""Checks of a scenario's calls against the service's real client: operations, arguments, outcomes.

They read the raw document, so they report alongside the model's own problems, all at once.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from stormproof.chaos.scenario._faults import did_you_mean
from stormproof.chaos.services import ProviderAdapter
from stormproof.clients import Operation, OutcomeUnknownError, ServiceClient, ServiceError

Location = tuple[int | str, ...]

#: What `${...}` may name besides the `save_as` of an earlier call.
BUILTIN_VALUES = ("seed", "unique")
_REFERENCE = re.compile(r"\$\{([^}.]+)[^}]*\}")
OK = "ok"


def client_operations(client: type[ServiceClient]) -> dict[str, inspect.Signature]:
    """The operations a scenario may call: the public methods the client class declares itself."""
    return {
        name: inspect.signature(member)
        for klass in reversed(client.__mro__)
        if issubclass(klass, ServiceClient) and klass is not ServiceClient
        for name, member in vars(klass).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def error_names(client: type[ServiceClient] | None = None) -> list[str]:
    """`ok` and the name of every `ServiceError` class loaded (a team's own ones included).

    With `client`, an `OutcomeUnknownError` subclass counts only where one of the client's
    operations ends in it (or in a subclass of it): a users call cannot end in
    `PaymentOutcomeUnknownError`.
    """
    raised = (
        [op.outcome_unknown for op in declared_operations(client).values() if op.outcome_unknown]
        if client is not None
        else None
    )
    names: list[str] = []
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        klass = pending.pop()
        pending.extend(klass.__subclasses__())
        specific = issubclass(klass, OutcomeUnknownError) and klass is not OutcomeUnknownError
        if raised is not None and specific and not any(issubclass(r, klass) for r in raised):
            continue
        names.append(klass.__name__)
    return [OK, *sorted(set(names))]


def declared_operations(client: type[ServiceClient]) -> dict[str, Operation[Any, Any]]:
    """The `Operation` values a client declares, by name: in its class or its module (the
    bundled clients do the latter); a subclass inherits its parents'."""
    found: dict[str, Operation[Any, Any]] = {}
    for klass in reversed(client.__mro__):
        if not issubclass(klass, ServiceClient) or klass is ServiceClient:
            continue
        module = sys.modules.get(klass.__module__)
        for place in (vars(module) if module is not None else {}, vars(klass)):
            for value in place.values():
                if isinstance(value, Operation):
                    found[value.name] = value
    return found


def _walk(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _is_literal(value: Any) -> bool:
    return not any("${" in text for text in _walk(value))


def check_calls(
    document: Mapping[str, Any], client: type[ServiceClient]
) -> list[tuple[Location, str]]:
    """Problems of every call of `document` for `client`, with their locations."""
    problems: list[tuple[Location, str]] = []
    operations = client_operations(client)
    outcomes = error_names(client)
    saved: list[str] = []
    phases = document.get("phases")
    for p, phase in enumerate(phases if isinstance(phases, list) else []):
        calls = phase.get("calls") if isinstance(phase, Mapping) else None
        for c, call in enumerate(calls if isinstance(calls, list) else []):
            if not isinstance(call, Mapping):
                continue
            where: Location = ("phases", p, "calls", c)
            problems += _check_op(call, where, client, operations)
            problems += _check_references(call, where, saved)
            problems += _check_outcome(call, where, outcomes, client)
            if isinstance(call.get("save_as"), str):
                saved.append(call["save_as"])
    return problems


def _check_op(
    call: Mapping[str, Any],
    where: Location,
    client: type[ServiceClient],
    operations: Mapping[str, inspect.Signature],
) -> list[tuple[Location, str]]:
    op = call.get("op")
    if not isinstance(op, str):
        return []
    if op not in operations:
        known = ", ".join(sorted(operations))
        return [
            (
                (*where, "op"),
                f"unknown operation {op!r} of {client.__name__}{did_you_mean(op, list(operations))}"
                f"; known: {known}",
            )
        ]
    inputs = call.get("with", {})
    if not isinstance(inputs, Mapping):
        return []
    parameters = {
        name: parameter
        for name, parameter in operations[op].parameters.items()
        if name != "self" and parameter.kind is not inspect.Parameter.VAR_KEYWORD
    }
    problems: list[tuple[Location, str]] = []
    for key in inputs:
        if key not in parameters:
            problems.append(
                (
                    (*where, "with", key),
                    f"{op} has no argument {key!r}{did_you_mean(str(key), list(parameters))}; "
                    f"its arguments: {', '.join(parameters) or 'none'}",
                )
            )
    missing = [
        name
        for name, parameter in parameters.items()
        if parameter.default is inspect.Parameter.empty and name not in inputs
    ]
    if missing:
        problems.append(((*where, "with"), f"{op} needs the argument(s) {', '.join(missing)}"))
    declared = declared_operations(client).get(op)
    model = declared.request if declared is not None else None
    literal = {k: v for k, v in inputs.items() if k in parameters and _is_literal(v)}
    if model is not None and literal:
        try:
            model.model_validate(literal)
        except ValidationError as exc:
            for detail in exc.errors(include_url=False):
                loc = detail["loc"]
                if detail["type"] != "missing" and loc and loc[0] in literal:
                    problems.append(((*where, "with", *loc), f"{op}: {detail['msg']}"))
    return problems


def _check_references(
    call: Mapping[str, Any], where: Location, saved: list[str]
) -> list[tuple[Location, str]]:
    known = [*BUILTIN_VALUES, *saved]
    problems: list[tuple[Location, str]] = []
    for text in _walk(call.get("with", {})):
        for name in _REFERENCE.findall(text):
            if name not in known:
                problems.append(
                    (
                        (*where, "with"),
                        f"${{{name}}} names no earlier call's save_as{did_you_mean(name, known)}; "
                        f"known: {', '.join(known)}",
                    )
                )
    return problems


def _check_outcome(
    call: Mapping[str, Any], where: Location, outcomes: list[str], client: type[ServiceClient]
) -> list[tuple[Location, str]]:
    expect = call.get("expect")
    outcome = expect.get("outcome") if isinstance(expect, Mapping) else None
    if isinstance(outcome, str):
        names = [part.strip() for part in outcome.split("|")]
    elif isinstance(outcome, list):
        names = [part for part in outcome if isinstance(part, str)]
    else:
        return []
    problems: list[tuple[Location, str]] = []
    for name in names:
        if name in outcomes:
            continue
        if name in error_names():  # another client's error: walked only for a problem
            problem = (
                f"{client.__name__} never ends in {name}: none of its operations declares it "
                "as its outcome_unknown error"
            )
        else:
            problem = (
                f"unknown outcome {name!r}{did_you_mean(name, outcomes)}: an outcome is 'ok' or "
                "the name of a client error class"
            )
        problems.append(((*where, "expect", "outcome"), problem))
    return problems


def check_expectations(
    document: Mapping[str, Any], adapter: type[ProviderAdapter], service: str
) -> list[tuple[Location, str]]:
    """Problems of `expect:` for the service's provider adapter: side effects and invariants it
    does not declare."""
    expect = document.get("expect")
    if not isinstance(expect, Mapping):
        return []
    problems: list[tuple[Location, str]] = []
    declared = list(adapter.SIDE_EFFECTS)
    effects = expect.get("side_effects")
    for name in effects if isinstance(effects, Mapping) else ():
        if name not in declared:
            problems.append(
                (
                    ("expect", "side_effects", name),
                    f"the {service} provider's adapter records no side effect {name!r}"
                    f"{did_you_mean(str(name), declared)}; it records: "
                    f"{', '.join(declared) or 'none'}",
                )
            )
    rules = list(adapter.INVARIANTS)
    invariants = expect.get("invariants")
    for index, name in enumerate(invariants if isinstance(invariants, list) else ()):
        if name not in rules:
            problems.append(
                (
                    ("expect", "invariants", index),
                    f"the {service} provider's adapter checks no invariant {name!r}"
                    f"{did_you_mean(str(name), rules)}; it checks: {', '.join(rules) or 'none'}",
                )
            )
    return problems
