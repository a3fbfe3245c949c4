"""A provider's test-mode API (`/_test/...`): faults, reset, request log, ledger, states."""

from __future__ import annotations

from typing import Any, cast

import requests

from stormproof.providers import FaultRuleSpec

_TIMEOUT_S = 5.0


class ProviderControlError(RuntimeError):
    """The provider's test-mode API refused a request or could not be reached."""


class ProviderControl:
    """A typed wrapper over one provider's test-mode endpoints (see docs/service-api.md)."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url}/_test{path}"
        try:
            response = self._session.request(method, url, json=body, timeout=_TIMEOUT_S)
        except requests.RequestException as exc:
            raise ProviderControlError(f"{method} {url} failed: {exc}") from exc
        if response.status_code >= 400:
            raise ProviderControlError(
                f"{method} {url} answered {response.status_code}: {response.text[:300]}"
            )
        return response.json() if response.content else None

    def reset(self) -> None:
        """Clear data, faults, the request log and the ledger."""
        self._request("POST", "/reset")

    def add_fault(self, spec: FaultRuleSpec) -> dict[str, Any]:
        """Install one fault rule; returns the rule as the provider stored it (with its `id`)."""
        body = spec.model_dump(mode="json")
        return cast(dict[str, Any], self._request("POST", "/faults", body))

    def fault(self, rule_id: str) -> dict[str, Any]:
        """One rule added since the last reset, active or used up, with its `hits`."""
        return cast(dict[str, Any], self._request("GET", f"/faults/{rule_id}"))

    def faults(self) -> list[dict[str, Any]]:
        """The active fault rules."""
        return cast(list[dict[str, Any]], self._request("GET", "/faults")["rules"])

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self._request("DELETE", "/faults")

    def request_count(self) -> int:
        """Requests the provider has seen since the last reset (test endpoints excluded)."""
        return int(self._request("GET", "/requests")["count"])

    def ledger(self) -> dict[str, Any]:
        """The payments ledger: charges and refunds per idempotency key."""
        return cast(dict[str, Any], self._request("GET", "/ledger"))

    def sent(self) -> list[dict[str, Any]]:
        """The notifications actually sent, with their idempotency keys."""
        return cast(list[dict[str, Any]], self._request("GET", "/sent")["sent"])

    def set_state(self, state: str, params: dict[str, Any]) -> None:
        """Establish a provider state (the same states Pact verification uses)."""
        self._request("POST", "/states", {"state": state, "params": params, "action": "setup"})
