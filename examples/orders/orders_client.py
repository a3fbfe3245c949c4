"""The orders client, written the way the bundled clients are: operations and models only.

`create_order` carries one `Idempotency-Key` per logical order, reused on every retry, so the
pipeline may retry it after an ambiguous failure (the provider replays the original order).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictInt

from stormproof.clients import (
    IdempotencyKey,
    Operation,
    OutcomeUnknownError,
    RequestModel,
    ResourceId,
    ResponseModel,
    ServiceClient,
)


class Order(ResponseModel):
    """An order."""

    id: str
    customer_id: str
    sku: str
    quantity: int
    status: Literal["created"]
    created_at: datetime


class OrderList(ResponseModel):
    """Every order, in creation order."""

    items: tuple[Order, ...]
    total: int


class OrderOutcomeUnknownError(OutcomeUnknownError):
    """A create failed in a way that leaves its outcome unknown: the order may exist.

    Attributes:
        idempotency_key: The key every attempt carried; repeat the call with it.
    """

    @property
    def hint(self) -> str:  # type: ignore[override]
        """What to do: repeat with the same key."""
        return (
            "The order may or may not have been created. Repeat create_order with idempotency "
            f"key {self.idempotency_key!r} (never a new one, that could create a second order)."
        )


class _CreateOrder(RequestModel):
    customer_id: ResourceId
    sku: ResourceId
    quantity: Annotated[StrictInt, Field(ge=1, le=1000)]
    idempotency_key: IdempotencyKey


class _OrderId(RequestModel):
    order_id: ResourceId


class _NoArguments(RequestModel):
    pass


_CREATE = Operation(
    "create_order",
    "POST",
    "/orders",
    _CreateOrder,
    Order,
    keyed=True,
    outcome_unknown=OrderOutcomeUnknownError,
)
_GET = Operation("get_order", "GET", "/orders/{order_id}", _OrderId, Order)
_LIST = Operation("list_orders", "GET", "/orders", _NoArguments, OrderList)


class OrdersClient(ServiceClient):
    """Client of the orders service: create (idempotently), read and list orders."""

    service = "orders"

    def create_order(
        self, *, customer_id: str, sku: str, quantity: int, idempotency_key: str | None = None
    ) -> Order:
        """Create an order.

        Args:
            customer_id: The ordering customer's id.
            sku: The item ordered.
            quantity: How many, 1..1000.
            idempotency_key: Key to reuse when repeating a call whose outcome is unknown; a new
                key when None (a new order).

        Returns:
            The order (the original one when the key was used before with the same body).

        Raises:
            OrderOutcomeUnknownError: The order may or may not exist; repeat with
                ``error.idempotency_key``.
            ClientRequestError: Rejected (422: invalid, or the key was used for another order).
            ServiceError: Another failure; no order was created.
        """
        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        return self._call(
            _CREATE, customer_id=customer_id, sku=sku, quantity=quantity, idempotency_key=key
        )

    def get_order(self, order_id: str) -> Order:
        """Fetch an order.

        Args:
            order_id: The order's id.

        Returns:
            The order.

        Raises:
            NotFoundError: No such order.
            ServiceError: Another failure.
        """
        return self._call(_GET, order_id=order_id)

    def list_orders(self) -> OrderList:
        """List every order.

        Returns:
            The orders, in creation order.

        Raises:
            ServiceError: The call failed.
        """
        return self._call(_LIST)
