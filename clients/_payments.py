"""The payment service client and its models (Payment service in the API doc).

Money-moving calls (``create_payment``, ``refund_payment``) carry one ``Idempotency-Key`` per
logical call, reused on every retry. When they fail in a way that leaves the outcome unknown
(a timeout or 5xx after the request may have been processed), they raise
``PaymentOutcomeUnknownError`` carrying that key, so the caller can reconcile.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StrictInt, field_serializer

from stormproof.clients._base import ServiceClient
from stormproof.clients._errors import PaymentOutcomeUnknownError
from stormproof.clients._operation import (
    IdempotencyKey,
    Operation,
    RequestModel,
    ResourceId,
    ResponseModel,
)

__all__ = ["Payment", "PaymentServiceClient", "Refund"]


class Payment(ResponseModel):
    """A captured payment (the payment method token is never echoed back)."""

    id: str
    amount: int
    currency: str
    user_id: str
    status: Literal["captured", "partially_refunded", "refunded"]
    refunded_amount: int
    created_at: datetime


class Refund(ResponseModel):
    """A refund of (part of) a payment."""

    id: str
    payment_id: str
    amount: int
    status: Literal["succeeded"]
    created_at: datetime


_Amount = Annotated[StrictInt, Field(gt=0)]


class _CreatePayment(RequestModel):
    amount: _Amount
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    user_id: ResourceId
    payment_method_token: Annotated[SecretStr, Field(min_length=1, max_length=500)]
    idempotency_key: IdempotencyKey

    @field_serializer("payment_method_token", when_used="json")
    def _reveal(self, token: SecretStr) -> str:
        # The wire needs the real token; reprs and logs keep seeing "**********".
        return token.get_secret_value()


class _PaymentId(RequestModel):
    payment_id: ResourceId


class _ByKey(RequestModel):
    key: IdempotencyKey


class _Refund(RequestModel):
    payment_id: ResourceId
    amount: _Amount | None = None
    idempotency_key: IdempotencyKey


_CREATE = Operation(
    "create_payment",
    "POST",
    "/payments",
    _CreatePayment,
    Payment,
    keyed=True,
    outcome_unknown=PaymentOutcomeUnknownError,
    secret_fields=("payment_method_token",),
)
_GET = Operation("get_payment", "GET", "/payments/{payment_id}", _PaymentId, Payment)
_BY_KEY = Operation(
    "get_payment_by_idempotency_key", "GET", "/payments/by-idempotency-key/{key}", _ByKey, Payment
)
_REFUND = Operation(
    "refund_payment",
    "POST",
    "/payments/{payment_id}/refunds",
    _Refund,
    Refund,
    keyed=True,
    outcome_unknown=PaymentOutcomeUnknownError,
)


def _new_key() -> str:
    return str(uuid.uuid4())


class PaymentServiceClient(ServiceClient):
    """Client of the payment service: charge, read, reconcile by key, refund."""

    service = "payments"

    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        user_id: str,
        payment_method_token: str,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Charge a payment method.

        Args:
            amount: Amount in minor units (cents), > 0.
            currency: ISO 4217 code, three upper-case letters.
            user_id: The paying user's id.
            payment_method_token: Token of the payment method (never logged).
            idempotency_key: Key to reuse when repeating a call whose outcome is unknown;
                a new key when None (a new payment).

        Returns:
            The captured payment.

        Raises:
            PaymentOutcomeUnknownError: It may or may not have been charged; reconcile with
                ``error.idempotency_key``.
            ConflictError: A request with this key is still in flight.
            ClientRequestError: Rejected (422: invalid, or the key was used for another body).
            ServiceError: Another failure; nothing was charged.
        """
        return self._call(
            _CREATE,
            amount=amount,
            currency=currency,
            user_id=user_id,
            payment_method_token=payment_method_token,
            idempotency_key=idempotency_key if idempotency_key is not None else _new_key(),
        )

    def get_payment(self, payment_id: str) -> Payment:
        """Fetch a payment.

        Args:
            payment_id: The payment's id.

        Returns:
            The payment.

        Raises:
            NotFoundError: No such payment.
            ServiceError: Another failure.
        """
        return self._call(_GET, payment_id=payment_id)

    def get_payment_by_idempotency_key(self, key: str) -> Payment:
        """Find the payment a ``create_payment`` call with ``key`` made (reconciliation).

        Args:
            key: The idempotency key of the create call.

        Returns:
            The payment.

        Raises:
            NotFoundError: No payment was ever created with that key.
            ServiceError: Another failure.
        """
        return self._call(_BY_KEY, key=key)

    def refund_payment(
        self, payment_id: str, amount: int | None = None, idempotency_key: str | None = None
    ) -> Refund:
        """Refund a payment, fully or partly.

        Args:
            payment_id: The payment's id.
            amount: Minor units to refund; None refunds everything not yet refunded.
            idempotency_key: Key to reuse when repeating a call whose outcome is unknown.

        Returns:
            The refund.

        Raises:
            PaymentOutcomeUnknownError: It may or may not have been refunded; repeat with
                ``error.idempotency_key``.
            NotFoundError: No such payment.
            ClientRequestError: The amount is above what is left to refund.
            ServiceError: Another failure; nothing was refunded.
        """
        return self._call(
            _REFUND,
            payment_id=payment_id,
            amount=amount,
            idempotency_key=idempotency_key if idempotency_key is not None else _new_key(),
        )
