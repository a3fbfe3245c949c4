"""The harness's handle on the orders provider: provider states, orders created per key, traffic.

Provider states are parsed here and put in place through the provider's `/_test/orders` seed
route, so the app itself knows nothing about Pact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import requests

from stormproof.chaos.services import Invariant, SideEffect

_TIMEOUT_S = 5.0
_AN_ORDER = re.compile(r"^an order with id (?P<id>\S+) exists$")
_NO_ORDER = re.compile(r"^no order with id (?P<id>\S+) exists$")
_KEYED = re.compile(r"^an order was created with idempotency key (?P<key>\S+)$")
_NO_ORDERS = "no orders exist"
_DEFAULT_ORDER = {"customer_id": "cus_1", "sku": "sku_1", "quantity": 2}


class OrdersProviderError(RuntimeError):
    """The orders provider's test API refused a request or could not be reached."""


class OrdersAdapter:
    """Provider adapter of the orders service (see `stormproof.chaos.services.ProviderAdapter`).

    Args:
        base_url: The provider's own URL (never through the proxy).
    """

    SIDE_EFFECTS: ClassVar[Mapping[str, SideEffect]] = {
        "orders_created": SideEffect("order", "created"),
    }
    INVARIANTS: ClassVar[Mapping[str, Invariant]] = {}
    STATES: ClassVar[tuple[str, ...]] = (
        "an order with id {id} exists",
        "no order with id {id} exists",
        "an order was created with idempotency key {key}",
        _NO_ORDERS,
    )

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = requests.Session()

    def close(self) -> None:
        """Close the HTTP session (the harness calls it when it is done with the adapter)."""
        self._session.close()

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url}/_test{path}"
        try:
            response = self._session.request(method, url, json=body, timeout=_TIMEOUT_S)
        except requests.RequestException as exc:
            raise OrdersProviderError(f"{method} {url} failed: {exc}") from exc
        if response.status_code >= 400:
            raise OrdersProviderError(
                f"{method} {url} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def reset(self) -> None:
        """Forget every order, key and count."""
        self._request("POST", "/reset")

    def state_names(self) -> Sequence[str]:
        """The provider states `set_state` knows."""
        return self.STATES

    def unknown_states(self, states: Sequence[str]) -> list[str]:
        """The states among `states` that no template matches (the empty state needs nothing)."""
        patterns = (_AN_ORDER, _NO_ORDER, _KEYED)
        return list(
            dict.fromkeys(
                state
                for state in states
                if state and state != _NO_ORDERS and not any(p.match(state) for p in patterns)
            )
        )

    def set_state(self, state: str, params: Mapping[str, Any]) -> None:
        """Put a provider state in place; `params` may override the order's fields.

        Raises:
            LookupError: No template matches `state`.
        """
        fields = {**_DEFAULT_ORDER, **{k: v for k, v in params.items() if k in _DEFAULT_ORDER}}
        if found := _AN_ORDER.match(state):
            self._request("POST", "/orders", {**fields, "id": found["id"]})
        elif found := _KEYED.match(state):
            order_id = str(params.get("id", "ord_1"))
            body = {**fields, "id": order_id, "idempotency_key": found["key"]}
            self._request("POST", "/orders", body)
        elif not (state == _NO_ORDERS or _NO_ORDER.match(state)):
            raise LookupError(f"unknown provider state {state!r}; known: {', '.join(self.STATES)}")

    def request_count(self) -> int | None:
        """Requests served since the last reset (test API and health checks excluded)."""
        return int(self._request("GET", "/requests")["count"])

    def side_effects(self, name: str) -> Mapping[str, int]:
        """`orders_created`: orders `POST /orders` created, per Idempotency-Key.

        Raises:
            LookupError: `name` is not a declared side effect.
        """
        if name not in self.SIDE_EFFECTS:
            raise LookupError(name)
        return {
            str(k): int(v) for k, v in self._request("GET", "/orders-created")["by_key"].items()
        }

    def invariant_violations(self, name: str) -> list[str]:
        """No invariants are declared.

        Raises:
            LookupError: always.
        """
        raise LookupError(name)

    def snapshot(self) -> Mapping[str, Any]:
        """Orders created per key, for the scenario's report."""
        return {"orders_created": self.side_effects("orders_created")}
