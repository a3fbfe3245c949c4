"""Building the client a scenario drives: its declared class, the scenario's policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from stormproof.chaos._options import Weakening
from stormproof.clients import ClientEvent, ResiliencePolicy, Runtime, ServiceClient


def policy_for(policy: ResiliencePolicy, weaken: Weakening | None = None) -> ResiliencePolicy:
    """A scenario's client policy, optionally weakened."""
    if weaken == "no-retries":
        return replace(policy, retry=replace(policy.retry, max_attempts=1))
    if weaken == "no-breaker":
        return replace(policy, breaker=replace(policy.breaker, enabled=False))
    if weaken == "no-window":
        # Back to consecutive failures: rates over a window no longer open the breaker.
        return replace(policy, breaker=replace(policy.breaker, window="consecutive"))
    if weaken == "no-budget":
        return replace(policy, retry=replace(policy.retry, budget_enabled=False))
    if weaken == "no-deadline":
        # A deadline far away: only the per-read timeouts bound a call, as with bare requests.
        return replace(policy, deadline_s=3600.0)
    return policy


def build_client(
    client_class: type[ServiceClient],
    base_url: str,
    policy: ResiliencePolicy,
    listener: Callable[[ClientEvent], None],
    runtime: Runtime,
) -> ServiceClient:
    """A new client of `client_class`, reporting its events to `listener`."""
    return client_class(base_url, policy=policy, on_event=listener, runtime=runtime)
