"""Consumer contract of the orders service, driven through the real `OrdersClient`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from orders_client import Order, OrdersClient
from pact import Pact, match

from stormproof.clients import (
    BreakerPolicy,
    ClientRequestError,
    NotFoundError,
    ResiliencePolicy,
    RetryPolicy,
)

JSON = "application/json"
# The real pipeline minus retries and the breaker: the mock server answers 500 to anything it
# did not expect, and a retry would turn one interaction into several.
NO_RETRY = ResiliencePolicy(
    deadline_s=10.0, retry=RetryPolicy(max_attempts=1), breaker=BreakerPolicy(enabled=False)
)
ORDER = {"customer_id": "cus_1", "sku": "sku_1", "quantity": 2}
KEYED = "an order was created with idempotency key {key}"


@contextmanager
def client_for(pact: Pact) -> Iterator[OrdersClient]:
    """Serve `pact`'s mock server on 127.0.0.1 and yield a no-retry client pointed at it."""
    with (
        pact.serve(addr="127.0.0.1") as server,
        OrdersClient(str(server.url), policy=NO_RETRY) as c,
    ):
        yield c


def order(*, order_id: str | None = None) -> dict[str, Any]:
    """An order as the service writes it; the id and timestamp are matched by shape."""
    return {
        "id": order_id if order_id is not None else match.str("ord_1"),
        **ORDER,
        "status": "created",
        "created_at": match.datetime("2026-12-01T09:00:00Z", format="%Y-%m-%dT%H:%M:%SZ"),
    }


def create(client: OrdersClient, key: str, *, quantity: int = 2) -> Order:
    """Create the contract's order with `key`."""
    return client.create_order(
        customer_id="cus_1", sku="sku_1", quantity=quantity, idempotency_key=key
    )


def error(kind: str) -> dict[str, Any]:
    """An error body: a literal type, any message."""
    return {"error": {"type": kind, "message": match.str("what went wrong")}}


def test_create_order(orders_pact: Pact) -> None:
    (
        orders_pact.upon_receiving("a request to create an order")
        .given("no orders exist")
        .with_request("POST", "/orders")
        .with_header("Idempotency-Key", match.regex("order-key-new", regex=r"^[\x20-\x7e]{1,255}$"))
        .with_body(ORDER, content_type=JSON)
        .will_respond_with(201)
        .with_body(order(), content_type=JSON)
    )
    with client_for(orders_pact) as client:
        created = create(client, "order-key-new")
    assert (created.sku, created.quantity, created.status) == ("sku_1", 2, "created")


def test_create_order_replayed(orders_pact: Pact) -> None:
    (
        orders_pact.upon_receiving("a repeated request to create an order with the same key")
        .given(KEYED.format(key="order-key-1"), {"id": "ord_1"})
        .with_request("POST", "/orders")
        .with_header("Idempotency-Key", "order-key-1")
        .with_body(ORDER, content_type=JSON)
        .will_respond_with(201)
        .with_header("Idempotent-Replayed", "true")
        .with_body(order(order_id="ord_1"), content_type=JSON)
    )
    with client_for(orders_pact) as client:
        replayed = create(client, "order-key-1")
    assert replayed.id == "ord_1"


def test_create_order_key_reused_for_another_order(orders_pact: Pact) -> None:
    (
        orders_pact.upon_receiving("a request reusing an order key for another order")
        .given(KEYED.format(key="order-key-2"), {"id": "ord_1"})
        .with_request("POST", "/orders")
        .with_header("Idempotency-Key", "order-key-2")
        .with_body({**ORDER, "quantity": 5}, content_type=JSON)
        .will_respond_with(422)
        .with_body(error("idempotency_mismatch"), content_type=JSON)
    )
    with client_for(orders_pact) as client, pytest.raises(ClientRequestError) as info:
        create(client, "order-key-2", quantity=5)
    # A definitive refusal about the key: nothing was created, so the outcome is known.
    assert type(info.value) is ClientRequestError
    assert info.value.error_type == "idempotency_mismatch"


def test_get_order(orders_pact: Pact) -> None:
    (
        orders_pact.upon_receiving("a request for order ord_1")
        .given("an order with id ord_1 exists")
        .with_request("GET", "/orders/ord_1")
        .will_respond_with(200)
        .with_body(order(order_id="ord_1"), content_type=JSON)
    )
    with client_for(orders_pact) as client:
        found = client.get_order("ord_1")
    assert found.id == "ord_1"
    assert found.created_at.tzinfo is not None


def test_get_order_not_found(orders_pact: Pact) -> None:
    (
        orders_pact.upon_receiving("a request for an order that does not exist")
        .given("no order with id ord_404 exists")
        .with_request("GET", "/orders/ord_404")
        .will_respond_with(404)
        .with_body(error("not_found"), content_type=JSON)
    )
    with client_for(orders_pact) as client, pytest.raises(NotFoundError) as info:
        client.get_order("ord_404")
    assert info.value.error_type == "not_found"


def test_list_orders(orders_pact: Pact) -> None:
    (
        orders_pact.upon_receiving("a request for every order")
        .given("an order with id ord_1 exists")
        .with_request("GET", "/orders")
        .will_respond_with(200)
        .with_body({"items": match.each_like(order()), "total": match.int(1)}, content_type=JSON)
    )
    with client_for(orders_pact) as client:
        listing = client.list_orders()
    assert listing.total == 1
    assert [item.sku for item in listing.items] == ["sku_1"]
