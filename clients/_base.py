"""What every service client shares: construction, the pipeline, events, lifecycle."""

from __future__ import annotations

from types import TracebackType
from typing import Any, ClassVar, Self

from stormproof.clients._events import BreakerState, EventListener
from stormproof.clients._operation import Operation, ReqT, RespT
from stormproof.clients._pipeline import Pipeline
from stormproof.clients._policy import ResiliencePolicy
from stormproof.clients._runtime import Runtime, default_runtime

__all__ = ["ServiceClient"]


class ServiceClient:
    """Base of the service clients; subclasses only declare operations.

    A client is safe to share between threads: calls run concurrently (the breaker never
    holds a lock across a request) over one pooled ``requests`` session.
    """

    service: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        *,
        policy: ResiliencePolicy | None = None,
        token: str | None = None,
        on_event: EventListener | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        """Create a client.

        Args:
            base_url: Service root URL, e.g. ``http://127.0.0.1:8001``.
            policy: Resilience policy; by default production defaults overridden by
                ``STORMPROOF_<SERVICE>_*`` / ``STORMPROOF_*`` environment variables.
            token: Bearer token sent as ``Authorization`` (never logged).
            on_event: Listener for attempt, call and breaker events.
            runtime: Clock, sleep and randomness (``stormproof.clients.testing``: instant ones).

        Raises:
            ValueError: The token cannot be sent in a header (a line break, a control character
                or a character outside Latin-1); the message never shows it.
        """
        self.policy = policy if policy is not None else ResiliencePolicy.from_env(self.service)
        self._pipeline = Pipeline(
            self.service,
            base_url,
            self.policy,
            runtime if runtime is not None else default_runtime(),
            token,
        )
        if on_event is not None:
            self._pipeline.add_listener(on_event)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._pipeline.base_url!r})"

    @property
    def base_url(self) -> str:
        """The service root URL."""
        return self._pipeline.base_url

    @property
    def breaker_state(self) -> BreakerState:
        """The state of this client's circuit breaker."""
        return self._pipeline.breaker.state

    def add_listener(self, listener: EventListener) -> None:
        """Send this client's events to ``listener`` too.

        Args:
            listener: Called synchronously with each ``AttemptEvent``, ``CallEvent`` and
                ``BreakerEvent``; it must be quick, and its exceptions are logged and ignored.
        """
        self._pipeline.add_listener(listener)

    def remove_listener(self, listener: EventListener) -> None:
        """Stop sending events to ``listener``.

        Args:
            listener: A listener added before (unknown listeners are ignored).
        """
        self._pipeline.remove_listener(listener)

    def close(self) -> None:
        """Close pooled connections and forget the token; the client must not be used again."""
        self._pipeline.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, op: Operation[ReqT, RespT], **inputs: Any) -> RespT:
        return self._pipeline.call(op, inputs)
