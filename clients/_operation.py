"""How a client declares an operation, and the field types its request models share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from stormproof.clients._errors import OutcomeUnknownError

__all__ = [
    "Email",
    "IdempotencyKey",
    "Operation",
    "RequestModel",
    "ResourceId",
    "ResponseModel",
]

_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

ResourceId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
]
"""A resource id: 1..200 printable ASCII characters without spaces."""

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=5, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
"""An email address (``local@domain.tld``), 5..254 characters."""

IdempotencyKey = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$")]
"""An ``Idempotency-Key``: 1..255 printable ASCII characters."""


class RequestModel(BaseModel):
    """Base of request models: strict about unknown arguments, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseModel(BaseModel):
    """Base of response models: tolerant of new fields, immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


ReqT = TypeVar("ReqT", bound=RequestModel)
RespT = TypeVar("RespT", bound=ResponseModel)


@dataclass(frozen=True, slots=True)
class Operation(Generic[ReqT, RespT]):
    """One HTTP operation of a service, as the pipeline executes it.

    Attributes:
        name: Client method name (``create_payment``).
        method: HTTP method.
        path: Path template; ``{field}`` placeholders come from the request model.
        request: Request model; fields not in the path or query form the JSON body.
        response: Response model of a 2xx answer.
        query: Request fields sent as query parameters.
        keyed: Whether the request model's ``idempotency_key`` goes in the header.
        drop_none_body: Leave fields that are None out of the body (partial updates).
        outcome_unknown: The ``OutcomeUnknownError`` subclass raised when a keyed call failed
            after an attempt that may have been processed (None: the last error as it is).
        secret_fields: Request fields whose values must be scrubbed from error text.
        path_fields: Request fields in the path (derived).
        body_fields: Request fields in the JSON body (derived; empty: no body).
        idempotent: Whether the method is idempotent (derived).
    """

    name: str
    method: str
    path: str
    request: type[ReqT]
    response: type[RespT]
    query: tuple[str, ...] = ()
    keyed: bool = False
    drop_none_body: bool = False
    outcome_unknown: type[OutcomeUnknownError] | None = None
    secret_fields: tuple[str, ...] = ()
    path_fields: tuple[str, ...] = field(init=False)
    body_fields: frozenset[str] = field(init=False)
    idempotent: bool = field(init=False)

    def __post_init__(self) -> None:
        path_fields = tuple(re.findall(r"{(\w+)}", self.path))
        skip = {*path_fields, *self.query, "idempotency_key"}
        object.__setattr__(self, "path_fields", path_fields)
        object.__setattr__(self, "body_fields", frozenset(set(self.request.model_fields) - skip))
        object.__setattr__(self, "idempotent", self.method in _IDEMPOTENT_METHODS)
