"""Applying a scenario's faults to one service, and always taking them away again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from stormproof.chaos.runner import _witness as witness
from stormproof.chaos.runner._environment import ChaosEnvironment, ServiceEndpoint
from stormproof.chaos.runner._http_route import HTTP_TOXIC, toxic_attributes
from stormproof.chaos.runner._records import AttemptRecord, Witness
from stormproof.chaos.scenario import Fault, HttpFault, ProxyFault, ToxicFault
from stormproof.chaos.services import ProviderAdapter, ProviderFaults
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError


def describe_fault(fault: Fault) -> str:
    """A one-line description of a fault for reports, e.g. `latency downstream 500 ms`."""
    if isinstance(fault, ToxicFault):
        attributes = ", ".join(f"{k}={v}" for k, v in sorted(fault.effective_attributes.items()))
        toxicity = "" if fault.toxicity == 1.0 else f" toxicity={fault.toxicity:g}"
        return f"toxic {fault.toxic} on {fault.stream} ({attributes or 'no attributes'}){toxicity}"
    if isinstance(fault, ProxyFault):
        return "proxy down (connections refused)"
    spec = fault.http
    # The proxy or the provider makes it, depending on the backend: say what, not who.
    parts = [f"HTTP {spec.mode}"]
    if spec.mode == "status":
        parts.append(str(spec.status))
    if spec.retry_after is not None:
        parts.append(f"Retry-After {spec.retry_after}")
    if spec.mode == "slow":
        parts.append(f"after {spec.delay_ms} ms")
    target = f"{spec.method or '*'} {spec.path or '*'}"
    parts.append(f"for the next {spec.count} request(s) to {target}, {spec.apply} the handler")
    return " ".join(parts)


class HttpFaultsUnsupportedError(RuntimeError):
    """A scenario asks for an HTTP fault that neither the backend nor the provider can make."""


class FaultInjector:
    """Applies faults to one service's proxy and provider, and lifts exactly what it applied.

    Args:
        toxiproxy: The proxy server's API.
        endpoint: The service's wiring.
        adapter: The service's provider adapter.
        proxy_http: The proxy has the `http` toxic (the embedded one): `http:` faults go there,
            for every service; otherwise to the provider adapter's fault API, if it has one.
    """

    def __init__(
        self,
        toxiproxy: ToxiproxyClient,
        endpoint: ServiceEndpoint,
        adapter: ProviderAdapter,
        *,
        proxy_http: bool = False,
    ) -> None:
        self._toxiproxy = toxiproxy
        self._endpoint = endpoint
        self._adapter = adapter
        self._proxy_http = proxy_http
        self._toxics: list[str] = []
        self._disabled = False
        self._http = False
        # What the current phase applied, with its handle (toxic name, fault rule id).
        self._applied: list[tuple[Fault, str]] = []

    def clean_slate(self) -> None:
        """Start from nothing: no toxics, proxy enabled, no provider faults, provider data reset."""
        proxy = self._endpoint.proxy
        for toxic in self._toxiproxy.toxics(proxy):
            self._toxiproxy.remove_toxic(proxy, toxic.name)
        self._toxiproxy.update_proxy(proxy, enabled=True)
        self._adapter.reset()

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
            self._applied.append((fault, fault.toxic_name))
        elif isinstance(fault, ProxyFault):
            self._disabled = True
            self._toxiproxy.update_proxy(proxy, enabled=False)
            self._applied.append((fault, proxy))
        elif isinstance(fault, HttpFault) and self._proxy_http:
            name = f"http_fault_{len(self._toxics) + 1}"
            self._toxics.append(name)
            self._toxiproxy.add_toxic(
                proxy, HTTP_TOXIC, attributes=toxic_attributes(fault.http), name=name
            )
            self._applied.append((fault, name))
        elif isinstance(fault, HttpFault):
            faults = self._http_faults()
            self._http = True
            rule_id = faults.add_fault(fault.http.model_dump(mode="json"))
            self._applied.append((fault, rule_id))

    def cannot_apply(self, faults: Iterable[Fault]) -> str | None:
        """Why some of `faults` cannot be made here (None: all can), checked before a scenario."""
        faults = list(faults)
        if self._proxy_http:
            return None
        if any(isinstance(f, ToxicFault) and f.toxic == HTTP_TOXIC for f in faults):
            return (
                "needs the embedded proxy: the http toxic is a stormproof extension that this "
                "Toxiproxy does not have (it answers 400 for the type)"
            )
        if any(isinstance(f, HttpFault) for f in faults) and not isinstance(
            self._adapter, ProviderFaults
        ):
            return (
                f"needs HTTP faults: not supported by this backend (the {self._endpoint.service} "
                "provider's adapter cannot make them, and neither can the proxy)"
            )
        return None

    def _http_faults(self) -> ProviderFaults:
        if not isinstance(self._adapter, ProviderFaults):
            raise HttpFaultsUnsupportedError(
                f"needs HTTP faults: the {self._endpoint.service} provider's adapter cannot make "
                "them and this backend cannot either"
            )
        return self._adapter

    def witnesses(self, attempts: Sequence[AttemptRecord]) -> list[Witness]:
        """The evidence that each fault applied since the last `lift()` fired.

        Args:
            attempts: The client's attempts while the faults were on.
        """
        found: list[Witness] = []
        for fault, handle in self._applied:
            described = describe_fault(fault)
            if isinstance(fault, ToxicFault):
                found.append(self._toxic_witness(described, fault, handle, attempts))
            elif isinstance(fault, ProxyFault):
                found.append(witness.from_outage(described, attempts))
            elif self._proxy_http:
                stats = self._toxiproxy.toxic_stats(self._endpoint.proxy, handle)
                found.append(witness.from_http_toxic(described, stats))
            else:
                hits = self._http_faults().fault_hits(handle)
                found.append(witness.from_rule_hits(described, hits))
        return found

    def _toxic_witness(
        self, described: str, fault: ToxicFault, name: str, attempts: Sequence[AttemptRecord]
    ) -> Witness:
        try:
            stats = self._toxiproxy.toxic_stats(self._endpoint.proxy, name)
        except ToxiproxyError:
            # A real Toxiproxy keeps no per-toxic counters: fall back to the client's evidence.
            return witness.from_client_attempts(described, fault.toxic, attempts)
        return witness.from_toxic_counters(
            described, acted=stats.acted, connections=stats.connections, byte_count=stats.bytes
        )

    def lift(self) -> list[str]:
        """Lift everything applied so far; returns problems met while lifting (empty: clean)."""
        problems: list[str] = []
        proxy = self._endpoint.proxy
        self._applied.clear()
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
        if self._http and not self._proxy_http:
            self._http_faults().clear_faults()
            self._http = False
        return problems

    def leftovers(self) -> list[str]:
        """What was still applied to this service after `lift()`, taken away now (empty when
        everything was rolled back)."""
        return roll_back_service(self._toxiproxy, self._endpoint, self._adapter)


def roll_back_service(
    toxiproxy: ToxiproxyClient, endpoint: ServiceEndpoint, adapter: ProviderAdapter | None
) -> list[str]:
    """Take away whatever is applied to one service, whoever applied it: every toxic on its
    proxy, the proxy's outage, and the provider's fault rules when its adapter can list them.

    Args:
        toxiproxy: The proxy server's API.
        endpoint: The service's wiring.
        adapter: The service's provider adapter (None: the service has none).

    Returns:
        What was there, one line each (empty: nothing was).
    """
    proxy = endpoint.proxy
    left: list[str] = []
    for toxic in toxiproxy.toxics(proxy):
        left.append(f"toxic {toxic.name} on proxy {proxy}")
        toxiproxy.remove_toxic(proxy, toxic.name)
    if not toxiproxy.get_proxy(proxy).enabled:
        left.append(f"proxy {proxy} disabled")
        toxiproxy.update_proxy(proxy, enabled=True)
    if isinstance(adapter, ProviderFaults):
        rules = adapter.active_faults()
        left += [f"{endpoint.service} provider fault {dict(rule)}" for rule in rules]
        if rules:
            adapter.clear_faults()
    return left


def roll_back(environment: ChaosEnvironment, toxiproxy: ToxiproxyClient) -> list[str]:
    """`roll_back_service` for every service of `environment`: what a test or a scenario left
    is gone, and said.

    Args:
        environment: The chaos environment.
        toxiproxy: Its proxy server's API.

    Returns:
        What was there, one line each (empty: nothing was).
    """
    return [
        item
        for name, endpoint in environment.services.items()
        for item in roll_back_service(toxiproxy, endpoint, environment.adapters.get(name))
    ]
