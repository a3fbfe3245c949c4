"""`create_app` and the registry of services and their provider states."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Literal, get_args

from fastapi import FastAPI

from stormproof.providers import _notifications, _payments, _users
from stormproof.providers._states import StateRegistry, StateTemplate
from stormproof.providers._testmode import COMMON_STATE_NAMES

ServiceName = Literal["users", "notifications", "payments"]
SERVICES: tuple[ServiceName, ...] = get_args(ServiceName)

_FACTORIES: dict[str, Callable[..., FastAPI]] = {
    "users": _users.create_users_app,
    "notifications": _notifications.create_notifications_app,
    "payments": _payments.create_payments_app,
}

STATE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "users": _users.STATE_NAMES + COMMON_STATE_NAMES,
        "notifications": _notifications.STATE_NAMES + COMMON_STATE_NAMES,
        "payments": _payments.STATE_NAMES + COMMON_STATE_NAMES,
    }
)


def _check_service(service: str) -> None:
    if service not in _FACTORIES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")


def create_app(service: ServiceName, *, test_mode: bool = False) -> FastAPI:
    """Build a fresh app (with its own empty state) for one service.

    Args:
        service: `users`, `notifications` or `payments`.
        test_mode: Mount the `/_test` endpoints (faults, reset, request log, states, ledgers).

    Raises:
        ValueError: Unknown service name.
    """
    _check_service(service)
    return _FACTORIES[service](test_mode=test_mode)


def find_state(service: ServiceName, state: str) -> str | None:
    """The template name that handles a provider state name, or None.

    Args:
        service: The provider the state is meant for.
        state: A state name as written in a pact (`a user with id usr_1 exists`, or the template).

    Raises:
        ValueError: Unknown service name.
    """
    _check_service(service)
    registry = StateRegistry(StateTemplate(name, dict) for name in STATE_NAMES[service])
    found = registry.find(state)
    return None if found is None else found[0].name


def missing_states(service: ServiceName, states: Iterable[str]) -> list[str]:
    """The state names (in the given order, without duplicates) no handler of `service` knows.

    The empty state name (Pact's generic setup) always counts as handled.

    Raises:
        ValueError: Unknown service name.
    """
    _check_service(service)
    seen: dict[str, None] = {}
    for state in states:
        if state and find_state(service, state) is None:
            seen.setdefault(state, None)
    return list(seen)
