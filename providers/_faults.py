"""Fault rules: what the next matching requests answer instead of (or on top of) the real thing."""

from __future__ import annotations

import itertools
import threading
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

FaultMode = Literal["status", "slow", "malformed", "truncated"]


class FaultRuleSpec(BaseModel):
    """An HTTP fault rule: the body of `POST /_test/faults` (see docs/service-api.md).

    It is also a scenario file's `http:` fault, so a scenario is checked against the same fields,
    defaults and limits that the provider applies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: FaultMode = "status"
    count: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    method: str | None = None
    path: str | None = None
    status: Annotated[int, Field(ge=100, le=599)] = 503
    retry_after: str | None = None
    body: JsonValue | None = None
    delay_ms: Annotated[int, Field(ge=0, le=600_000)] = 1000
    apply: Literal["before", "after"] = "before"

    @field_validator("method")
    @classmethod
    def _upper_method(cls, value: str | None) -> str | None:
        return value.upper() if value else None

    @field_validator("path")
    @classmethod
    def _absolute_path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("must start with '/'")
        return value or None

    @field_validator("retry_after", mode="before")
    @classmethod
    def _retry_after_text(cls, value: object) -> object:
        # Accept `"retry_after": 2` as well as `"2"`: both mean delta-seconds.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request with this method and path."""
        if self.method is not None and self.method != method.upper():
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class FaultRule:
    """An installed rule: its spec, its id, how many more requests it will fault, and how many it
    has faulted (its hits: the evidence that it fired)."""

    def __init__(self, rule_id: str, spec: FaultRuleSpec) -> None:
        self.id = rule_id
        self.spec = spec
        self.remaining = spec.count
        self.hits = 0

    def to_json(self) -> dict[str, Any]:
        """The rule as the test endpoints report it."""
        return {
            "id": self.id,
            "remaining": self.remaining,
            "hits": self.hits,
            **self.spec.model_dump(mode="json"),
        }


class FaultStore:
    """Thread-safe, ordered set of fault rules; the oldest matching rule wins.

    A used-up rule stops matching but stays readable by id (with its hits) until `clear()`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._by_id: dict[str, FaultRule] = {}
        self._ids = itertools.count(1)

    def add(self, spec: FaultRuleSpec) -> FaultRule:
        """Install a rule and return it."""
        with self._lock:
            rule = FaultRule(f"fault_{next(self._ids)}", spec)
            self._rules.append(rule)
            self._by_id[rule.id] = rule
            return rule

    def take(self, method: str, path: str) -> FaultRuleSpec | None:
        """Consume one use of the first rule matching this request, if any."""
        with self._lock:
            for rule in self._rules:
                if rule.spec.matches(method, path):
                    rule.remaining -= 1
                    rule.hits += 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule.spec
        return None

    def get(self, rule_id: str) -> dict[str, Any] | None:
        """A rule added since the last `clear()`, active or used up; None if unknown."""
        with self._lock:
            rule = self._by_id.get(rule_id)
            return None if rule is None else rule.to_json()

    def list(self) -> list[dict[str, Any]]:
        """The active rules, oldest first."""
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()
            self._by_id.clear()
