"""Applying a scenario's faults to one service, and always taking them away again."""

from __future__ import annotations

from stormproof.chaos.runner._environment import ServiceEndpoint
from stormproof.chaos.runner._provider_control import ProviderControl
from stormproof.chaos.scenario import Fault, HttpFault, ProxyFault, ToxicFault
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError


def describe_fault(fault: Fault) -> str:
    """A one-line description of a fault for reports, e.g. `latency downstream 500 ms`."""
    if isinstance(fault, ToxicFault):
        attributes = ", ".join(f"{k}={v}" for k, v in sorted(fault.attributes.items()))
        toxicity = "" if fault.toxicity == 1.0 else f" toxicity={fault.toxicity:g}"
        return f"toxic {fault.toxic} on {fault.stream} ({attributes or 'defaults'}){toxicity}"
    if isinstance(fault, ProxyFault):
        return "proxy down (connections refused)"
    spec = fault.http
    parts = [f"provider answers {spec.mode}"]
    if spec.mode == "status":
        parts.append(str(spec.status))
    if spec.retry_after is not None:
        parts.append(f"Retry-After {spec.retry_after}")
    if spec.delay_ms:
        parts.append(f"after {spec.delay_ms} ms")
    target = f"{spec.method or '*'} {spec.path or '*'}"
    parts.append(f"for the next {spec.count} request(s) to {target}, {spec.apply} the handler")
    return " ".join(parts)


class FaultInjector:
    """Applies faults to one service's proxy and provider, and lifts exactly what it applied."""

    def __init__(
        self, toxiproxy: ToxiproxyClient, endpoint: ServiceEndpoint, control: ProviderControl
    ) -> None:
        self._toxiproxy = toxiproxy
        self._endpoint = endpoint
        self._control = control
        self._toxics: list[str] = []
        self._disabled = False
        self._http = False

    def clean_slate(self) -> None:
        """Start from nothing: no toxics, proxy enabled, no provider faults, provider data reset."""
        proxy = self._endpoint.proxy
        for toxic in self._toxiproxy.toxics(proxy):
            self._toxiproxy.remove_toxic(proxy, toxic.name)
        self._toxiproxy.update_proxy(proxy, enabled=True)
        self._control.reset()

    def apply(self, fault: Fault) -> None:
        """Apply one fault."""
        proxy = self._endpoint.proxy
        if isinstance(fault, ToxicFault):
            # Remembered before asking: an interrupt can land after Toxiproxy took the toxic
            # and before its answer came back (lifting a toxic that never came is a 404).
            self._toxics.append(fault.toxic_name)
            self._toxiproxy.add_toxic(
                proxy,
                fault.toxic,
                stream=fault.stream,
                toxicity=fault.toxicity,
                attributes=dict(fault.attributes),
                name=fault.toxic_name,
            )
        elif isinstance(fault, ProxyFault):
            self._disabled = True
            self._toxiproxy.update_proxy(proxy, enabled=False)
        elif isinstance(fault, HttpFault):
            self._http = True
            self._control.add_fault(fault.http)

    def lift(self) -> list[str]:
        """Lift everything applied so far; returns problems met while lifting (empty: clean)."""
        problems: list[str] = []
        proxy = self._endpoint.proxy
        for name in self._toxics:
            try:
                self._toxiproxy.remove_toxic(proxy, name)
            except ToxiproxyError as exc:
                if exc.status != 404:
                    problems.append(f"could not remove toxic {name}: {exc}")
        self._toxics.clear()
        if self._disabled:
            try:
                self._toxiproxy.update_proxy(proxy, enabled=True)
                self._disabled = False
            except ToxiproxyError as exc:
                problems.append(f"could not re-enable proxy {proxy}: {exc}")
        if self._http:
            self._control.clear_faults()
            self._http = False
        return problems

    def leftovers(self) -> list[str]:
        """What is still applied to this service (empty when everything was rolled back)."""
        proxy = self._endpoint.proxy
        found = [f"toxic {t.name} still on proxy {proxy}" for t in self._toxiproxy.toxics(proxy)]
        if not self._toxiproxy.get_proxy(proxy).enabled:
            found.append(f"proxy {proxy} still disabled")
        found += [f"provider fault still active: {rule}" for rule in self._control.faults()]
        return found
