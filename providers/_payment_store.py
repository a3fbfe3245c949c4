"""Payments, refunds and the ledger, in memory.

Charges and refunds happen under one lock, so refunds can never exceed the captured amount, and
the ledger (`GET /_test/ledger`) records every real charge and refund with its Idempotency-Key:
the proof that a retried payment was charged once.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from stormproof.providers._clock import now_iso
from stormproof.providers._errors import not_found, validation_error

Amount = Annotated[int, Field(gt=0, strict=True)]


class PaymentCreate(BaseModel):
    """Body of `POST /payments`."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    user_id: Annotated[str, Field(min_length=1, max_length=200)]
    payment_method_token: Annotated[str, Field(min_length=1, max_length=500)]


class RefundCreate(BaseModel):
    """Body of `POST /payments/{payment_id}/refunds`; no amount means everything left."""

    model_config = ConfigDict(extra="forbid")

    amount: Amount | None = None


@dataclass(frozen=True)
class Payment:
    """A stored payment (the payment method token is never kept)."""

    id: str
    amount: int
    currency: str
    user_id: str
    status: str
    refunded_amount: int
    created_at: str


@dataclass(frozen=True)
class Refund:
    """A stored refund."""

    id: str
    payment_id: str
    amount: int
    status: str
    created_at: str


def payment_status(amount: int, refunded: int) -> str:
    """The status a payment has after `refunded` of its `amount` was refunded."""
    if refunded == 0:
        return "captured"
    return "refunded" if refunded >= amount else "partially_refunded"


class PaymentStore:
    """Thread-safe payments, refunds and the ledger of real charges and refunds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._payments: dict[str, Payment] = {}
        self._by_key: dict[str, str] = {}
        self._charges: list[dict[str, Any]] = []
        self._refunds: list[dict[str, Any]] = []

    def charge(self, request: PaymentCreate, key: str, payment_id: str | None = None) -> Payment:
        """Capture a payment, record the charge in the ledger and return it."""
        payment = Payment(
            payment_id or f"pay_{uuid.uuid4().hex[:16]}",
            request.amount,
            request.currency,
            request.user_id,
            "captured",
            0,
            now_iso(),
        )
        with self._lock:
            self._payments[payment.id] = payment
            self._by_key[key] = payment.id
            self._charges.append(
                {
                    "idempotency_key": key,
                    "payment_id": payment.id,
                    "amount": payment.amount,
                    "currency": payment.currency,
                }
            )
        return payment

    def get(self, payment_id: str) -> Payment | None:
        """The payment with this id, if any."""
        with self._lock:
            return self._payments.get(payment_id)

    def by_key(self, key: str) -> Payment | None:
        """The payment created with this Idempotency-Key, if any."""
        with self._lock:
            payment_id = self._by_key.get(key)
            return None if payment_id is None else self._payments.get(payment_id)

    def refund(
        self, payment_id: str, amount: int | None, key: str, refund_id: str | None = None
    ) -> Refund:
        """Refund part or all of what is left of a payment.

        Raises:
            ApiError: 404 unknown payment; 422 when the amount exceeds what is left to refund.
        """
        with self._lock:
            payment = self._payments.get(payment_id)
            if payment is None:
                raise not_found("payment")
            left = payment.amount - payment.refunded_amount
            if left <= 0:
                raise validation_error("amount", "the payment is already fully refunded")
            wanted = left if amount is None else amount
            if wanted > left:
                raise validation_error("amount", f"exceeds the amount left to refund ({left})")
            refunded = payment.refunded_amount + wanted
            self._payments[payment_id] = replace(
                payment,
                refunded_amount=refunded,
                status=payment_status(payment.amount, refunded),
            )
            refund = Refund(
                refund_id or f"ref_{uuid.uuid4().hex[:16]}",
                payment_id,
                wanted,
                "succeeded",
                now_iso(),
            )
            self._refunds.append(
                {
                    "idempotency_key": key,
                    "payment_id": payment_id,
                    "refund_id": refund.id,
                    "amount": wanted,
                }
            )
            return refund

    def put(self, payment: Payment, key: str | None = None) -> Payment:
        """Insert or replace a payment by id (states); the ledger is left alone."""
        with self._lock:
            self._payments[payment.id] = payment
            if key is not None:
                self._by_key[key] = payment.id
        return payment

    def delete(self, payment_id: str) -> None:
        """Remove a payment and its key mapping, if present."""
        with self._lock:
            self._payments.pop(payment_id, None)
            for key in [k for k, v in self._by_key.items() if v == payment_id]:
                del self._by_key[key]

    def forget_key(self, key: str) -> None:
        """Remove the payment created with this key, if any."""
        with self._lock:
            payment_id = self._by_key.pop(key, None)
            if payment_id is not None:
                self._payments.pop(payment_id, None)

    def ledger(self) -> dict[str, Any]:
        """The `/_test/ledger` body."""
        with self._lock:
            charges = [dict(c) for c in self._charges]
            refunds = [dict(r) for r in self._refunds]
        by_key: dict[str, dict[str, int]] = {}
        for kind, entries in (("charges", charges), ("refunds", refunds)):
            for entry in entries:
                counts = by_key.setdefault(entry["idempotency_key"], {"charges": 0, "refunds": 0})
                counts[kind] += 1
        return {"charges": charges, "refunds": refunds, "by_key": by_key}

    def clear(self) -> None:
        """Forget every payment, refund and ledger entry."""
        with self._lock:
            self._payments.clear()
            self._by_key.clear()
            self._charges.clear()
            self._refunds.clear()
