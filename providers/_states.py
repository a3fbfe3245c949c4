"""Pact provider states: named templates, matched against the names consumers write.

A template such as `a user with id {id} exists` matches both the literal template (parameters then
come from the state's `params`) and a concrete name such as `a user with id usr_1 exists` (the
placeholder is read from the name). Explicit `params` win over values read from the name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stormproof.providers._errors import ApiError

StateParams = dict[str, Any]
StateHandler = Callable[[StateParams], dict[str, Any]]

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class StateError(ApiError):
    """A provider state that cannot be set up: unknown name or bad parameters (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "validation_error", message)


def _compile(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    pattern, names, last = "", [], 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        pattern += re.escape(template[last : match.start()])
        pattern += rf"(?:\{{{name}\}}|(?P<{name}>.+?))"
        names.append(name)
        last = match.end()
    pattern += re.escape(template[last:])
    return re.compile(pattern), tuple(names)


@dataclass(frozen=True)
class StateTemplate:
    """One provider state: its template name and the handler that sets it up."""

    name: str
    handler: StateHandler
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    placeholders: tuple[str, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pattern, names = _compile(self.name)
        object.__setattr__(self, "pattern", pattern)
        object.__setattr__(self, "placeholders", names)

    def match(self, state: str) -> dict[str, str] | None:
        """Values read from a concrete state name, or None when the name does not fit."""
        found = self.pattern.fullmatch(state)
        if found is None:
            return None
        return {k: v for k, v in found.groupdict().items() if v is not None}


class StateRegistry:
    """The provider states one service knows, in lookup order."""

    def __init__(self, templates: Iterable[StateTemplate]) -> None:
        self.templates = tuple(templates)

    @property
    def names(self) -> tuple[str, ...]:
        """The template names, as documented."""
        return tuple(t.name for t in self.templates)

    def find(self, state: str) -> tuple[StateTemplate, dict[str, str]] | None:
        """The template for a state name (exact template names first), with values read from it."""
        for template in self.templates:
            if template.name == state:
                return template, {}
        for template in self.templates:
            values = template.match(state)
            if values is not None:
                return template, values
        return None

    def setup(self, state: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Set a state up and return the values it created (for provider-state injection).

        Raises:
            StateError: Unknown state name or a missing/invalid parameter.
        """
        if state == "":
            return {}
        found = self.find(state)
        if found is None:
            known = "; ".join(self.names)
            raise StateError(f"unknown provider state {state!r}; known states: {known}")
        template, values = found
        merged: StateParams = {**values, **dict(params)}
        missing = [p for p in template.placeholders if p not in merged]
        if missing:
            raise StateError(f"provider state {template.name!r} needs parameter(s) {missing}")
        return template.handler(merged)


def param_str(params: Mapping[str, Any], name: str, default: str | None = None) -> str:
    """A string parameter of a state.

    Raises:
        StateError: The parameter is absent without a default, or not a scalar.
    """
    value = params.get(name, default)
    if value is None:
        raise StateError(f"provider state needs parameter {name!r}")
    if isinstance(value, (dict, list)):
        raise StateError(f"provider state parameter {name!r} must be a scalar")
    return str(value)


def param_int(params: Mapping[str, Any], name: str, default: int) -> int:
    """An integer parameter of a state (numbers given as text are accepted).

    Raises:
        StateError: The parameter is not an integer.
    """
    value = params.get(name, default)
    try:
        if isinstance(value, bool):
            raise ValueError(name)
        return int(value)
    except (TypeError, ValueError):
        raise StateError(f"provider state parameter {name!r} must be an integer") from None
