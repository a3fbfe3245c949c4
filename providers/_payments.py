"""The payment service: create (charge), get, look up by key, refund; its ledger and states."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from pydantic import ValidationError

from stormproof.providers._app import ProviderContext, build_provider_app
from stormproof.providers._clock import now_iso
from stormproof.providers._errors import not_found
from stormproof.providers._idempotency import IdempotencyStore, fingerprint, run_idempotent
from stormproof.providers._payment_store import (
    Payment,
    PaymentCreate,
    PaymentStore,
    RefundCreate,
    payment_status,
)
from stormproof.providers._states import (
    StateError,
    StateParams,
    StateTemplate,
    param_int,
    param_str,
)
from stormproof.providers._testmode import TEST_PREFIX


def _router(store: PaymentStore, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter()

    @router.post("/payments", status_code=201)
    def create_payment(
        request: Request,
        body: PaymentCreate,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Any:
        def operation(key: str) -> tuple[int, Any]:
            return 201, asdict(store.charge(body, key))

        return run_idempotent(
            request, keys, idempotency_key, body.model_dump(mode="json"), operation
        )

    @router.get("/payments/by-idempotency-key/{key}")
    def get_payment_by_key(key: str) -> dict[str, Any]:
        payment = store.by_key(key)
        if payment is None:
            raise not_found("payment for this Idempotency-Key")
        return asdict(payment)

    @router.get("/payments/{payment_id}")
    def get_payment(payment_id: str) -> dict[str, Any]:
        payment = store.get(payment_id)
        if payment is None:
            raise not_found("payment")
        return asdict(payment)

    @router.post("/payments/{payment_id}/refunds", status_code=201)
    def refund_payment(
        request: Request,
        payment_id: str,
        body: RefundCreate | None = None,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> Any:
        refund = body or RefundCreate()

        def operation(key: str) -> tuple[int, Any]:
            return 201, asdict(store.refund(payment_id, refund.amount, key))

        return run_idempotent(
            request, keys, idempotency_key, refund.model_dump(mode="json"), operation
        )

    return router


def _test_router(store: PaymentStore) -> APIRouter:
    router = APIRouter(prefix=TEST_PREFIX)

    @router.get("/ledger")
    def ledger() -> dict[str, Any]:
        return store.ledger()

    return router


# --- provider states ---------------------------------------------------------------------------


def _seed_payment(store: PaymentStore, params: StateParams) -> dict[str, Any]:
    amount = param_int(params, "amount", 1000)
    refunded = param_int(params, "refunded_amount", 0)
    if amount <= 0 or not 0 <= refunded <= amount:
        raise StateError("provider state needs amount > 0 and 0 <= refunded_amount <= amount")
    payment = Payment(
        param_str(params, "id", f"pay_{uuid.uuid4().hex[:16]}"),
        amount,
        param_str(params, "currency", "EUR"),
        param_str(params, "user_id", "usr_1"),
        payment_status(amount, refunded),
        refunded,
        param_str(params, "created_at", now_iso()),
    )
    key = param_str(params, "idempotency_key") if params.get("idempotency_key") else None
    return asdict(store.put(payment, key))


def _no_payment(store: PaymentStore, params: StateParams) -> dict[str, Any]:
    store.delete(param_str(params, "id"))
    return {"id": params["id"]}


def _created_with_key(
    store: PaymentStore, keys: IdempotencyStore, params: StateParams
) -> dict[str, Any]:
    key = param_str(params, "key")
    try:
        request = PaymentCreate(
            amount=param_int(params, "amount", 1000),
            currency=param_str(params, "currency", "EUR"),
            user_id=param_str(params, "user_id", "usr_1"),
            payment_method_token=param_str(params, "payment_method_token", "tok_visa"),
        )
    except ValidationError as exc:
        raise StateError(f"invalid payment parameters: {exc.errors()[0]['msg']}") from None
    payment_id = param_str(params, "id") if params.get("id") else None
    payment = asdict(store.charge(request, key, payment_id))
    keys.seed(
        key,
        fingerprint("POST", "/payments", request.model_dump(mode="json")),
        201,
        payment,
        done=True,
    )
    return {**payment, "key": key}


def _refunded_with_key(
    store: PaymentStore, keys: IdempotencyStore, params: StateParams
) -> dict[str, Any]:
    key = param_str(params, "key")
    payment_id = param_str(params, "payment_id", "pay_1")
    amount = param_int(params, "amount", 0) if params.get("amount") is not None else None
    if store.get(payment_id) is None:
        _seed_payment(store, {"id": payment_id, "amount": max(amount or 0, 1000)})
    try:
        request = RefundCreate(amount=amount)
    except ValidationError as exc:
        raise StateError(f"invalid refund parameters: {exc.errors()[0]['msg']}") from None
    refund_id = param_str(params, "id") if params.get("id") else None
    refund = asdict(store.refund(payment_id, request.amount, key, refund_id))
    path = f"/payments/{payment_id}/refunds"
    keys.seed(
        key, fingerprint("POST", path, request.model_dump(mode="json")), 201, refund, done=True
    )
    return {**refund, "key": key}


def _no_payment_with_key(store: PaymentStore, params: StateParams) -> dict[str, Any]:
    store.forget_key(param_str(params, "key"))
    return {"key": params["key"]}


def _key_in_flight(keys: IdempotencyStore, params: StateParams) -> dict[str, Any]:
    key = param_str(params, "key")
    keys.seed(key, None, 0, None, done=False)
    return {"key": key}


def _handlers(
    store: PaymentStore, keys: IdempotencyStore
) -> dict[str, Callable[[StateParams], dict[str, Any]]]:
    # Payment params: id, amount (1000), currency (EUR), user_id (usr_1), refunded_amount (0),
    # payment_method_token (tok_visa); refund params: payment_id (pay_1), amount (all), id.
    return {
        "a payment with id {id} exists": partial(_seed_payment, store),
        "no payment with id {id} exists": partial(_no_payment, store),
        "a payment was created with idempotency key {key}": partial(_created_with_key, store, keys),
        "no payment was created with idempotency key {key}": partial(_no_payment_with_key, store),
        "a refund was created with idempotency key {key}": partial(_refunded_with_key, store, keys),
        "a request with idempotency key {key} is in flight": partial(_key_in_flight, keys),
    }


STATE_NAMES = tuple(_handlers(PaymentStore(), IdempotencyStore()))


def create_payments_app(*, test_mode: bool = False) -> FastAPI:
    """Build a payment-service app with its own empty in-memory store and ledger.

    Args:
        test_mode: Mount the `/_test` endpoints (including `/_test/ledger`) and honour fault rules.
    """
    ctx = ProviderContext("payments", test_mode=test_mode)
    store, keys = PaymentStore(), IdempotencyStore()
    ctx.on_reset(store.clear)
    ctx.on_reset(keys.clear)
    app = build_provider_app(
        ctx,
        routers=[_router(store, keys)],
        states=[StateTemplate(name, h) for name, h in _handlers(store, keys).items()],
        test_routers=[_test_router(store)],
    )
    app.state.store = store
    app.state.idempotency = keys
    return app
