"""Provider adapters of the reference services: the harness's handle on their `/_test` API."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

import requests

from stormproof.chaos.services import Invariant, SideEffect

_TIMEOUT_S = 5.0


class ReferenceProviderError(RuntimeError):
    """A provider's test-mode API refused a request or could not be reached."""


class ReferenceAdapter:
    """A reference provider in test mode: reset, states, request log and HTTP fault rules.

    Args:
        base_url: The provider's own URL (never through the proxy).
    """

    SERVICE: ClassVar[str] = ""
    SIDE_EFFECTS: ClassVar[Mapping[str, SideEffect]] = {}
    INVARIANTS: ClassVar[Mapping[str, Invariant]] = {}

    def __init__(self, base_url: str, *, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url}/_test{path}"
        try:
            response = self._session.request(method, url, json=body, timeout=_TIMEOUT_S)
        except requests.RequestException as exc:
            raise ReferenceProviderError(f"{method} {url} failed: {exc}") from exc
        if response.status_code >= 400:
            raise ReferenceProviderError(
                f"{method} {url} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def reset(self) -> None:
        """Clear data, faults, the request log and the ledgers."""
        self._request("POST", "/reset")

    def state_names(self) -> Sequence[str]:
        """The provider states this service knows."""
        from stormproof.providers._apps import STATE_NAMES  # noqa: PLC0415 - loads the apps

        return STATE_NAMES.get(self.SERVICE, ())

    def unknown_states(self, states: Sequence[str]) -> list[str]:
        """The states no handler of this service knows."""
        from stormproof.providers._apps import missing_states  # noqa: PLC0415 - loads the apps

        return missing_states(self.SERVICE, states)  # type: ignore[arg-type]

    def set_state(self, state: str, params: Mapping[str, Any]) -> None:
        """Establish a provider state (the same states Pact verification uses)."""
        body = {"state": state, "params": dict(params), "action": "setup"}
        self._request("POST", "/states", body)

    def request_count(self) -> int | None:
        """Requests served since the last reset (test endpoints excluded)."""
        return int(self._request("GET", "/requests")["count"])

    def side_effects(self, name: str) -> Mapping[str, int]:
        """How often the side effect `name` happened, per idempotency key."""
        raise LookupError(name)

    def invariant_violations(self, name: str) -> list[str]:
        """How the invariant `name` is broken now."""
        raise LookupError(name)

    def snapshot(self) -> Mapping[str, Any]:
        """Nothing beyond the request log."""
        return {}

    def add_fault(self, rule: Mapping[str, Any]) -> str:
        """Install one HTTP fault rule; returns its id."""
        return str(self._request("POST", "/faults", dict(rule))["id"])

    def fault_hits(self, rule_id: str) -> int:
        """Requests the rule answered (it stays readable once used up, until a reset)."""
        return int(self._request("GET", f"/faults/{rule_id}")["hits"])

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._request("DELETE", "/faults")

    def active_faults(self) -> list[Mapping[str, Any]]:
        """The rules still in force."""
        return cast(list[Mapping[str, Any]], self._request("GET", "/faults")["rules"])


class UsersAdapter(ReferenceAdapter):
    """The users reference provider."""

    SERVICE = "users"


class NotificationsAdapter(ReferenceAdapter):
    """The notifications reference provider: it records every notification it sends."""

    SERVICE = "notifications"
    SIDE_EFFECTS: ClassVar[Mapping[str, SideEffect]] = {
        "sent": SideEffect("notification", "sent"),
    }

    def _sent(self) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._request("GET", "/sent")["sent"])

    def side_effects(self, name: str) -> Mapping[str, int]:
        """`sent`: notifications handed to their channel, per idempotency key."""
        if name != "sent":
            raise LookupError(name)
        return Counter(str(item.get("idempotency_key")) for item in self._sent())

    def snapshot(self) -> Mapping[str, Any]:
        """The notifications actually sent."""
        return {"sent": self._sent()}


class PaymentsAdapter(ReferenceAdapter):
    """The payments reference provider: its ledger of charges and refunds."""

    SERVICE = "payments"
    SIDE_EFFECTS: ClassVar[Mapping[str, SideEffect]] = {
        "charges": SideEffect("charge", "charged"),
        "refunds": SideEffect("refund", "refunded"),
    }
    INVARIANTS: ClassVar[Mapping[str, Invariant]] = {
        "refunds_within_captured": Invariant(
            "Refund above captured amount", "no payment is refunded above what it captured"
        ),
    }

    def _ledger(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._request("GET", "/ledger"))

    def side_effects(self, name: str) -> Mapping[str, int]:
        """`charges` and `refunds` per idempotency key, from the ledger."""
        if name not in self.SIDE_EFFECTS:
            raise LookupError(name)
        return Counter(str(entry["idempotency_key"]) for entry in self._ledger()[name])

    def invariant_violations(self, name: str) -> list[str]:
        """`refunds_within_captured`: each payment refunded above what it captured."""
        if name != "refunds_within_captured":
            raise LookupError(name)
        ledger = self._ledger()
        captured = {str(c["payment_id"]): int(c["amount"]) for c in ledger["charges"]}
        refunded: Counter[str] = Counter()
        for refund in ledger["refunds"]:
            refunded[str(refund["payment_id"])] += int(refund["amount"])
        for payment in refunded.keys() - captured.keys():
            # Seeded by a provider state, not charged: what it captured is its amount, less
            # what the state said was refunded before.
            seeded = self._payment(payment)
            before = int(seeded["refunded_amount"]) - refunded[payment]
            captured[payment] = int(seeded["amount"]) - before
        return [
            f"payment {payment} was refunded {amount} but only {captured[payment]} was captured"
            for payment, amount in sorted(refunded.items())
            if amount > captured[payment]
        ]

    def _payment(self, payment_id: str) -> dict[str, Any]:
        url = f"{self.base_url}/payments/{payment_id}"
        try:
            response = self._session.get(url, timeout=_TIMEOUT_S)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise ReferenceProviderError(f"GET {url} failed: {exc}") from exc
        return cast(dict[str, Any], response.json())

    def snapshot(self) -> Mapping[str, Any]:
        """The ledger."""
        return {"ledger": self._ledger()}
