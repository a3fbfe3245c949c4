"""The one error type providers raise, and the handlers that turn every error into the JSON body.

Every error leaves a provider as `{"error": {"type", "message", "details"}}`, whatever raised it:

    ApiError                    raised by handlers: a status, a type and a message
    RequestValidationError      FastAPI's request validation, answered 422 `validation_error`
    StarletteHTTPException      unknown routes (404), wrong methods (405), ...
    any other exception         caught by the provider middleware, answered 500 `internal`
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

ERROR_TYPES = (
    "not_found",
    "conflict",
    "validation_error",
    "idempotency_mismatch",
    "idempotency_in_flight",
    "rate_limited",
    "unavailable",
    "internal",
)


class ApiError(Exception):
    """An error a provider answers on purpose, with the documented JSON body.

    Args:
        status: The HTTP status code.
        error_type: One of `ERROR_TYPES`.
        message: Human-readable text; never contains secrets.
        details: Optional list of `{"field", "message"}` entries.
        headers: Extra response headers (for example `Retry-After`).
    """

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        details: Sequence[Mapping[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.details = [dict(d) for d in details] if details else None
        self.headers = dict(headers or {})


def error_type_for_status(status: int) -> str:
    """Map an HTTP status to the closest documented error type."""
    known = {404: "not_found", 409: "conflict", 429: "rate_limited", 503: "unavailable"}
    if status in known:
        return known[status]
    return "internal" if status >= 500 else "validation_error"


def error_body(
    error_type: str, message: str, details: Sequence[Mapping[str, str]] | None = None
) -> dict[str, Any]:
    """Build the documented error body."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if details:
        error["details"] = [dict(d) for d in details]
    return {"error": error}


def validation_error(field: str, message: str) -> ApiError:
    """A 422 `validation_error` about one field."""
    return ApiError(
        422,
        "validation_error",
        f"{field}: {message}",
        details=[{"field": field, "message": message}],
    )


def not_found(what: str) -> ApiError:
    """A 404 `not_found` error."""
    return ApiError(404, "not_found", f"{what} not found")


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _detail(err: Mapping[str, Any]) -> dict[str, str]:
    if err.get("type") == "json_invalid":
        return {"field": "body", "message": "request body is not valid JSON"}
    message = str(err.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    return {"field": _field_name(err.get("loc", ())), "message": message}


async def _api_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        error_body(exc.error_type, exc.message, exc.details),
        status_code=exc.status,
        headers=exc.headers,
    )


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # The offending input is deliberately left out: it may hold a card token.
    details = [_detail(err) for err in exc.errors()]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details) or "invalid request"
    return JSONResponse(
        error_body("validation_error", f"invalid request: {summary}", details), status_code=422
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif status == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    headers = dict(exc.headers or {})
    if status in {204, 304}:
        return Response(status_code=status, headers=headers)
    return JSONResponse(
        error_body(error_type_for_status(status), message), status_code=status, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the documented JSON body."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
