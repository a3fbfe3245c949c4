"""Building the client a scenario drives: the right class, the scenario's timing profile."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from stormproof.chaos.scenario import Profile
from stormproof.clients import (
    BreakerPolicy,
    ClientEvent,
    NotificationServiceClient,
    PaymentServiceClient,
    ResiliencePolicy,
    RetryPolicy,
    Runtime,
    UserServiceClient,
)

ServiceClient = UserServiceClient | NotificationServiceClient | PaymentServiceClient

CLIENT_CLASSES: dict[str, type[ServiceClient]] = {
    "users": UserServiceClient,
    "notifications": NotificationServiceClient,
    "payments": PaymentServiceClient,
}

#: Test-only ways to make the client worse, to prove the scenarios catch it.
Weakening = Literal["no-retries", "no-breaker", "no-deadline"]
WEAKENINGS: tuple[Weakening, ...] = ("no-retries", "no-breaker", "no-deadline")


def operations(service: str) -> list[str]:
    """The public operations a scenario may call on `service`'s client."""
    # The service's own methods, not what every client inherits (close, listeners, ...).
    own = vars(CLIENT_CLASSES[service])
    return sorted(
        name for name, member in own.items() if inspect.isfunction(member) and name[0] != "_"
    )


def policy_for(profile: Profile, weaken: Weakening | None = None) -> ResiliencePolicy:
    """The client policy a profile describes, optionally weakened."""
    policy = ResiliencePolicy(
        connect_timeout_s=profile.connect_timeout_s,
        read_timeout_s=profile.read_timeout_s,
        deadline_s=profile.deadline_s,
        retry=RetryPolicy(
            max_attempts=profile.max_attempts,
            initial_backoff_s=profile.backoff_initial_s,
            max_backoff_s=profile.backoff_max_s,
            max_retry_after_s=profile.retry_after_cap_s,
        ),
        breaker=BreakerPolicy(
            failure_threshold=profile.breaker_failure_threshold,
            reset_timeout_s=profile.breaker_reset_timeout_s,
            half_open_max_calls=profile.breaker_half_open_max_calls,
            success_threshold=profile.breaker_success_threshold,
        ),
    )
    if weaken == "no-retries":
        return replace(policy, retry=replace(policy.retry, max_attempts=1))
    if weaken == "no-breaker":
        return replace(policy, breaker=replace(policy.breaker, enabled=False))
    if weaken == "no-deadline":
        # A deadline far away: only the per-read timeouts bound a call, as with bare requests.
        return replace(policy, deadline_s=3600.0)
    return policy


def build_client(
    service: str,
    base_url: str,
    policy: ResiliencePolicy,
    listener: Callable[[ClientEvent], None],
    runtime: Runtime,
) -> ServiceClient:
    """A new client for `service`, reporting its events to `listener`."""
    return CLIENT_CLASSES[service](base_url, policy=policy, on_event=listener, runtime=runtime)
