"""The orders service: a small FastAPI provider with in-memory orders and Idempotency-Key replay.

It has no fault API on purpose: every fault a scenario makes comes from the proxy in front of it.
In test mode it also serves a tiny `/_test` API for its provider adapter (reset, seeding, counts).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

REPLAYED_HEADER = "Idempotent-Replayed"


class NewOrder(BaseModel):
    """The body of `POST /orders`."""

    model_config = ConfigDict(extra="forbid")

    customer_id: Annotated[str, Field(min_length=1, max_length=200)]
    sku: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, Field(ge=1, le=1000, strict=True)]


class SeedOrder(NewOrder):
    """The body of `POST /_test/orders`: an order put in place by a provider state."""

    id: Annotated[str, Field(min_length=1, max_length=200)]
    idempotency_key: str | None = None


class _ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def _error(
    status: int, error_type: str, message: str, details: list[Any] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"type": error_type, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


@dataclass
class OrderStore:
    """Orders, the key each create used, and how often each key created an order."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (fingerprint, id)
    created: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Forget everything."""
        with self.lock:
            self.orders.clear()
            self.by_key.clear()
            self.created.clear()
            self.requests = 0

    def add(self, order_id: str, body: NewOrder, key: str | None, print_: str) -> dict[str, Any]:
        """Store a new order (the lock is held by the caller)."""
        stamp = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
        order = {"id": order_id, **body.model_dump(), "status": "created", "created_at": stamp}
        self.orders[order_id] = order
        if key is not None:
            self.by_key[key] = (print_, order_id)
        return order


def _fingerprint(body: NewOrder) -> str:
    return hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()


def _add_public_routes(app: FastAPI, store: OrderStore) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/orders", status_code=201)
    def create_order(
        body: NewOrder,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> dict[str, Any]:
        print_ = _fingerprint(body)
        with store.lock:
            if idempotency_key is not None and idempotency_key in store.by_key:
                seen, order_id = store.by_key[idempotency_key]
                if seen != print_:
                    raise _ApiError(
                        422,
                        "idempotency_mismatch",
                        "this Idempotency-Key was used for a different order",
                    )
                response.headers[REPLAYED_HEADER] = "true"
                return store.orders[order_id]
            number = len(store.orders) + 1
            while f"ord_{number}" in store.orders:  # provider states seed their own ids
                number += 1
            order = store.add(f"ord_{number}", body, idempotency_key, print_)
            if idempotency_key is not None:
                store.created[idempotency_key] += 1
            return order

    @app.get("/orders/{order_id}")
    def get_order(order_id: str) -> dict[str, Any]:
        with store.lock:
            order = store.orders.get(order_id)
        if order is None:
            raise _ApiError(404, "not_found", f"no order with id {order_id}")
        return order

    @app.get("/orders")
    def list_orders() -> dict[str, Any]:
        with store.lock:
            items = list(store.orders.values())
        return {"items": items, "total": len(items)}


def _add_test_routes(app: FastAPI, store: OrderStore) -> None:
    @app.post("/_test/reset", status_code=204)
    def reset() -> None:
        store.reset()

    @app.post("/_test/orders", status_code=201)
    def seed(body: SeedOrder) -> dict[str, Any]:
        order = NewOrder(customer_id=body.customer_id, sku=body.sku, quantity=body.quantity)
        with store.lock:
            return store.add(body.id, order, body.idempotency_key, _fingerprint(order))

    @app.get("/_test/orders-created")
    def orders_created() -> dict[str, Any]:
        with store.lock:
            return {"by_key": dict(store.created)}

    @app.get("/_test/requests")
    def requests_served() -> dict[str, int]:
        return {"count": store.requests}


def _add_error_handlers(app: FastAPI) -> None:
    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _ApiError)
        return _error(exc.status, exc.error_type, exc.message)

    async def invalid(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"field": ".".join(str(p) for p in e["loc"][1:]) or "body", "message": e["msg"]}
            for e in exc.errors()
        ]
        return _error(422, "validation_error", "the request is invalid", details)

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = "not_found" if exc.status_code == 404 else "http_error"
        return _error(exc.status_code, kind, str(exc.detail))

    app.add_exception_handler(_ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


def create_app(*, test_mode: bool = False) -> FastAPI:
    """The orders service as an ASGI app, with a store of its own.

    Args:
        test_mode: Also serve the `/_test` API its provider adapter uses.

    Returns:
        The app.
    """
    app = FastAPI(title="orders-service", openapi_url=None, docs_url=None, redoc_url=None)
    store = OrderStore()

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith(("/_test", "/healthz")):
            with store.lock:
                store.requests += 1
        return await call_next(request)

    _add_public_routes(app, store)
    if test_mode:
        _add_test_routes(app, store)
    _add_error_handlers(app)
    return app
