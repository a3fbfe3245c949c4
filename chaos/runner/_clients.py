"""Building the client a scenario drives: its declared class, the scenario's policy."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from stormproof.chaos._options import Weakening
from stormproof.clients import ClientEvent, Operation, ResiliencePolicy, Runtime, ServiceClient


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
    *,
    weaken: Weakening | None = None,
) -> ServiceClient:
    """A new client of `client_class`, reporting its events to `listener` (weakened, for the
    two weakenings that are not a policy)."""
    client = client_class(base_url, policy=policy, on_event=listener, runtime=runtime)
    if weaken == "retry-unsafe":
        _retry_unsafe_calls(client)
    elif weaken == "new-key-per-retry":
        _new_key_per_retry(client)
    return client


# The two weakenings below patch private attributes of the client on purpose: they exist only to
# prove that the scenarios catch a client that breaks these rules, which no policy can express.


def _retry_unsafe_calls(client: ServiceClient) -> None:
    """Every operation is treated as idempotent: POST and PATCH without a key are retried."""
    call = client._call

    def retrying(op: Operation[Any, Any], **inputs: Any) -> Any:
        unsafe = copy.copy(op)
        object.__setattr__(unsafe, "idempotent", True)
        return call(unsafe, **inputs)

    setattr(client, "_call", retrying)  # noqa: B010 - an instance attribute shadows the method


def _new_key_per_retry(client: ServiceClient) -> None:
    """Each attempt after the first of a keyed call sends a key of its own."""
    transport = client._pipeline.transport
    exchange, call = transport.exchange, client._call
    tries: dict[str, int] = {}

    def calling(op: Operation[Any, Any], **inputs: Any) -> Any:
        tries.clear()  # a new logical call: its first attempt keeps its key
        return call(op, **inputs)

    def exchanging(op: Operation[Any, Any], request: Any, info: Any, **kwargs: Any) -> Any:
        key = info.idempotency_key
        if key is not None:
            tries[key] = count = tries.get(key, 0) + 1
            if count > 1:
                info = replace(info, idempotency_key=f"{key}-retry-{count}")
        return exchange(op, request, info, **kwargs)

    setattr(client, "_call", calling)  # noqa: B010 - an instance attribute shadows the method
    setattr(transport, "exchange", exchanging)  # noqa: B010
