"""One HTTP exchange of an attempt: build the request, send it under the watchdog, read it.

The pipeline decides whether and when to send; this module sends once and turns the answer
into a validated response model or a classified :class:`~clients._classify.Outcome`.
"""

from __future__ import annotations

import json
import weakref
from importlib import metadata
from typing import Any

import pydantic
import requests
import urllib3.exceptions

from stormproof.clients._breaker import Verdict
from stormproof.clients._classify import (
    AttemptInfo,
    Outcome,
    classify_exception,
    classify_status,
    truncated_outcome,
)
from stormproof.clients._deadline import WatchdogAdapter, end_watch, start_watch
from stormproof.clients._errors import FieldProblem, ResponseValidationError
from stormproof.clients._operation import Operation, RequestModel
from stormproof.clients._redact import redact, track_client

__all__ = ["Exchange", "Transport", "check_token"]

_TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)

Exchange = tuple[Any, Outcome | None, int | None]
"""(validated response model or None, failure outcome or None, HTTP status if one arrived)."""


def _user_agent() -> str:
    try:
        return f"stormproof/{metadata.version('stormproof')}"
    except metadata.PackageNotFoundError:
        return "stormproof/0"


_USER_AGENT = _user_agent()


def _cut_short(response: requests.Response) -> bool:
    """Whether a 2xx answer visibly lost bytes to a closing connection.

    Without ``Content-Length`` or chunked encoding, a body runs until the connection closes, so a
    header block cut mid-way reads as a complete answer with no ``Content-Type`` and no body.
    """
    declared = response.headers.get("Content-Length")
    if declared is not None:
        return declared.isdigit() and len(response.content) < int(declared)
    chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
    return not chunked and "Content-Type" not in response.headers


def check_token(token: str) -> None:
    """Refuse a bearer token that cannot be sent in a header, without showing it.

    Args:
        token: The token.

    Raises:
        ValueError: It holds a line break, another control character or a character outside
            Latin-1 (the message gives its position, never the token).
    """
    for position, char in enumerate(token, start=1):
        if ord(char) > 0xFF:
            problem = "a character outside Latin-1"
        elif char in "\r\n":
            problem = "a line break"
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            problem = "a control character"
        else:
            continue
        raise ValueError(
            f"token cannot be sent in an Authorization header: it holds {problem} at position "
            f"{position} of {len(token)} (the value is not shown)"
        )


class Transport:
    """Pooled connections to one service, shared by every thread of a client."""

    def __init__(self, base_url: str, pool_maxsize: int, token: str | None) -> None:
        """Create the connection pool.

        Args:
            base_url: Service root URL.
            pool_maxsize: Connections kept per host.
            token: Bearer token for the ``Authorization`` header, if any.

        Raises:
            ValueError: The token cannot be sent in a header.
        """
        self.base_url = base_url.rstrip("/")
        # The adapter, not a requests.Session: a session's per-call merging of cookies, hooks,
        # environment settings and redirects cost ~25% of a local call and is not needed here
        # (no cookies, no redirects, no proxies or .netrc credentials from the environment).
        self._adapter = WatchdogAdapter(
            pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0
        )
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": _USER_AGENT,
        }
        if token:
            check_token(token)
            self._headers["Authorization"] = f"Bearer {token}"
        # A client dropped without close() releases its token when it is collected.
        self._release = weakref.finalize(self, track_client(token or None))

    def close(self) -> None:
        """Close the pooled connections and forget the token (redaction of it ends)."""
        self._adapter.close()
        self._release()

    def exchange(
        self,
        op: Operation[Any, Any],
        request: RequestModel,
        info: AttemptInfo,
        *,
        timeout: tuple[float, float],
        remaining: float,
        now: float,
    ) -> Exchange:
        """Send one attempt and read its answer, all within ``remaining`` seconds.

        Args:
            op: The operation.
            request: The validated request model.
            info: The attempt (path, request id, key, ...).
            timeout: (connect, read) timeouts, already capped by the time left.
            remaining: Seconds before the call's deadline; the watchdog cuts the socket then.
            now: Wall-clock time, for HTTP-date ``Retry-After`` values.

        Returns:
            The exchange's result.
        """
        headers = {**self._headers, "X-Request-Id": info.request_id}
        if info.idempotency_key is not None:
            headers["Idempotency-Key"] = info.idempotency_key
        body: bytes | None = None
        if op.body_fields:
            headers["Content-Type"] = "application/json"
            payload = request.model_dump(
                mode="json", include=set(op.body_fields), exclude_none=op.drop_none_body
            )
            body = json.dumps(payload, separators=(",", ":")).encode()
        params = {name: getattr(request, name) for name in op.query} or None
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=op.method,
            url=self.base_url + info.path,
            headers=headers,
            data=body,
            params=params,
        )
        watch = start_watch(remaining)
        try:
            response = self._adapter.send(
                prepared, stream=False, timeout=timeout, verify=True, cert=None, proxies={}
            )
            response.content  # noqa: B018 - read the body while the watchdog still guards it
        except _TRANSPORT_ERRORS as exc:
            return None, classify_exception(exc, info, watch.expired), None
        finally:
            end_watch(watch)
        status = response.status_code
        if watch.expired:
            response.close()
            cut = requests.ConnectionError("deadline watchdog closed the connection")
            return None, classify_exception(cut, info, expired=True), status
        if not 200 <= status < 300:
            return None, classify_status(response, info, now), status
        result, outcome = _parse(op, response, info)
        return result, outcome, status


def _parse(
    op: Operation[Any, Any], response: requests.Response, info: AttemptInfo
) -> tuple[Any, Outcome | None]:
    if _cut_short(response):
        where = f"{info.method} {info.path} answered {response.status_code}, cut short"
        return None, truncated_outcome(where, info, None)
    content_type = response.headers.get("Content-Type") or ""
    media = content_type.partition(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        # The header is the service's text: a buggy one may echo a credential into it.
        shown = redact(content_type, info.secrets)[:100] if content_type else "(none)"
        detail = f"with content type {shown!r}, not JSON"
        return None, _unusable(response, info, detail, ())
    try:
        return op.response.model_validate_json(response.content), None
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        if any(err["type"] == "json_invalid" for err in errors):
            return None, _unusable(response, info, "with a body that is not valid JSON", ())
        problems = tuple(
            FieldProblem(".".join(str(p) for p in err["loc"]) or "(body)", err["msg"])
            for err in errors
        )
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
        detail = f"with a body that does not match {op.response.__name__}: {listed}"
        return None, _unusable(response, info, detail, problems)


def _unusable(
    response: requests.Response,
    info: AttemptInfo,
    detail: str,
    problems: tuple[FieldProblem, ...],
) -> Outcome:
    error = ResponseValidationError(
        f"{info.method} {info.path} answered {response.status_code} {detail}",
        status_code=response.status_code,
        problems=problems,
        **info.error_kwargs(),
    )
    return Outcome(error, retryable=False, ambiguous=True, verdict=Verdict.NEUTRAL)
