"""Response shapes the consumer tests expect, with matchers where the value is not the contract.

Ids, timestamps and free text are matched by type or format; statuses, channels, currencies and
amounts that the request determines stay literal, because the client depends on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pact import Pact, match

from stormproof.clients import BreakerPolicy, ResiliencePolicy, RetryPolicy, ServiceClient

# The real pipeline, minus retries and the breaker: the mock server answers 500 to any request it
# did not expect, and a retry would turn one interaction into several.
NO_RETRY = ResiliencePolicy(
    deadline_s=10.0, retry=RetryPolicy(max_attempts=1), breaker=BreakerPolicy(enabled=False)
)

EXAMPLE_TS = "2026-11-29T07:46:08Z"
KEY_REGEX = r"^[\x20-\x7e]{1,255}$"
JSON = "application/json"

C = TypeVar("C", bound=ServiceClient)


@contextmanager
def client_for(pact: Pact, client_type: type[C]) -> Iterator[C]:
    """Serve ``pact``'s mock server on 127.0.0.1 and yield a no-retry client pointed at it."""
    with (
        pact.serve(addr="127.0.0.1") as server,
        client_type(str(server.url), policy=NO_RETRY) as client,
    ):
        yield client


def timestamp() -> Any:
    """An RFC 3339 UTC timestamp to the second, as the services write them."""
    return match.datetime(EXAMPLE_TS, format="%Y-%m-%dT%H:%M:%SZ")


def an_id(example: str) -> Any:
    """Any string id (the example is what the consumer test sees)."""
    return match.str(example)


def idempotency_key(example: str) -> Any:
    """A request ``Idempotency-Key`` header: any 1..255 printable ASCII characters."""
    return match.regex(example, regex=KEY_REGEX)


def error(kind: str, *, field: str | None = None) -> dict[str, Any]:
    """An error body: literal ``type``, any message, a field problem when ``field`` is given."""
    body: dict[str, Any] = {"type": kind, "message": match.str("what went wrong")}
    if field is not None:
        body["details"] = match.each_like(
            {"field": match.regex(field, regex=f"^{field}$"), "message": match.str("why")}
        )
    return {"error": body}


def user(
    *, user_id: str | None = None, email: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """A ``User``; given values are literal (the contract), the others are matched by type."""
    return {
        "id": user_id if user_id is not None else an_id("usr_1"),
        "email": email if email is not None else match.str("ada@example.com"),
        "name": name if name is not None else match.str("Ada Lovelace"),
        "created_at": timestamp(),
        "updated_at": timestamp(),
    }


def notification(
    *, notification_id: str | None = None, channel: str = "email", recipient: str | None = None
) -> dict[str, Any]:
    """A ``Notification`` (status is any of the four the client accepts)."""
    return {
        "id": notification_id if notification_id is not None else an_id("ntf_1"),
        "channel": channel,
        "recipient": recipient if recipient is not None else match.str("ada@example.com"),
        "status": match.regex("queued", regex=r"^(queued|sent|delivered|failed)$"),
        "created_at": timestamp(),
        "updated_at": timestamp(),
    }


def payment(
    *,
    payment_id: str | None = None,
    amount: int | None = None,
    currency: str = "EUR",
    user_id: str | None = None,
    status: str = "captured",
    refunded_amount: int = 0,
) -> dict[str, Any]:
    """A ``Payment``; the payment method token is never part of it."""
    return {
        "id": payment_id if payment_id is not None else an_id("pay_1"),
        "amount": amount if amount is not None else match.int(1000),
        "currency": currency,
        "user_id": user_id if user_id is not None else an_id("usr_1"),
        "status": status,
        "refunded_amount": refunded_amount,
        "created_at": timestamp(),
    }


def refund(*, payment_id: str, amount: int, refund_id: str | None = None) -> dict[str, Any]:
    """A ``Refund`` of ``amount`` from ``payment_id``."""
    return {
        "id": refund_id if refund_id is not None else an_id("ref_1"),
        "payment_id": payment_id,
        "amount": amount,
        "status": "succeeded",
        "created_at": timestamp(),
    }
