"""What the harness may ask of a provider: states, side effects, traffic and (optionally) faults.

A service declares a *provider adapter*: a class built with the provider's base URL. The bundled
providers' adapters talk to their test-mode API; a team's own adapter can talk to anything (a
database, a test API, a stub's journal). Every method is optional in spirit: a provider with no
states returns no state names, one that cannot count requests returns None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable


@dataclass(frozen=True)
class SideEffect:
    """A side effect a provider records per idempotency key (a charge, a sent message).

    Attributes:
        noun: One of them, as a reviewer says it (`charge`); the failure category is
            "Duplicate <noun>".
        verb: What happened to a key (`charged`), for the message.
    """

    noun: str
    verb: str


@dataclass(frozen=True)
class Invariant:
    """A rule over the provider's state that must hold after a scenario (no over-refunds).

    Attributes:
        category: The failure category when it breaks (`Refund above captured amount`).
        description: What it says, for reports.
    """

    category: str
    description: str


@runtime_checkable
class ProviderAdapter(Protocol):
    """The harness's handle on one provider (built with the provider's base URL).

    Class attributes declare what scenarios may name: `SIDE_EFFECTS` (name → `SideEffect`) for
    `expect: {side_effects: {NAME: {max_per_key: N}}}`, `INVARIANTS` (name → `Invariant`) for
    `expect: {invariants: [NAME]}`.
    """

    SIDE_EFFECTS: ClassVar[Mapping[str, SideEffect]]
    INVARIANTS: ClassVar[Mapping[str, Invariant]]

    def reset(self) -> None:
        """Forget all data, so a scenario starts from nothing."""

    def state_names(self) -> Sequence[str]:
        """The provider states `set_state` knows (templates such as `a user with id {id}`)."""

    def unknown_states(self, states: Sequence[str]) -> list[str]:
        """The states among `states` that `set_state` cannot establish (checked before a pact
        verification, whose verifier would stall on each unknown state)."""

    def set_state(self, state: str, params: Mapping[str, Any]) -> None:
        """Establish a provider state (the same states the pacts name)."""

    def request_count(self) -> int | None:
        """Requests the provider has served since the last reset (None: it cannot tell)."""

    def side_effects(self, name: str) -> Mapping[str, int]:
        """How often the side effect `name` happened, per idempotency key."""

    def invariant_violations(self, name: str) -> list[str]:
        """How the invariant `name` is broken now (empty: it holds)."""

    def snapshot(self) -> Mapping[str, Any]:
        """What a reviewer should see of the provider's state after a scenario (attached)."""


@runtime_checkable
class ProviderFaults(Protocol):
    """A provider adapter that can also make HTTP faults itself (the bundled providers can)."""

    def add_fault(self, rule: Mapping[str, Any]) -> str:
        """Install an HTTP fault rule; returns its id."""

    def fault_hits(self, rule_id: str) -> int:
        """Requests the rule has answered."""

    def clear_faults(self) -> None:
        """Remove every fault rule."""

    def active_faults(self) -> list[Mapping[str, Any]]:
        """The rules still in force."""


class NoAdapter:
    """The adapter of a service that declares none: no states, no side effects, no counts."""

    SIDE_EFFECTS: ClassVar[Mapping[str, SideEffect]] = {}
    INVARIANTS: ClassVar[Mapping[str, Invariant]] = {}

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def reset(self) -> None:
        """Nothing to reset."""

    def state_names(self) -> Sequence[str]:
        """No states."""
        return ()

    def unknown_states(self, states: Sequence[str]) -> list[str]:
        """Every named state (the empty one, Pact's generic set-up, needs nothing)."""
        return list(dict.fromkeys(state for state in states if state))

    def set_state(self, state: str, params: Mapping[str, Any]) -> None:
        """No state can be set."""
        raise LookupError(f"the provider at {self.base_url} declares no adapter, so no states")

    def request_count(self) -> int | None:
        """Unknown."""
        return None

    def side_effects(self, name: str) -> Mapping[str, int]:
        """None declared."""
        raise LookupError(name)

    def invariant_violations(self, name: str) -> list[str]:
        """None declared."""
        raise LookupError(name)

    def snapshot(self) -> Mapping[str, Any]:
        """Nothing to show."""
        return {}
