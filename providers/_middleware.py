"""The provider middleware: request ids, the request log, fault rules and the last-resort 500.

It is a plain ASGI middleware (not `BaseHTTPMiddleware`) because a truncated response must stop
mid-body and close the connection, which only raw ASGI messages can express.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers, MutableHeaders

from stormproof.providers._errors import error_body, error_type_for_status
from stormproof.providers._faults import FaultRuleSpec, FaultStore
from stormproof.providers._idempotency import HOLD_DONE_STATE_KEY, HOLD_STATE_KEY
from stormproof.providers._requestlog import RequestLog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("providers")
# One INFO line per answered request (test endpoints and /healthz excluded); silent unless the
# application configures logging, as `stormproof providers` does.
request_logger = logging.getLogger("providers.requests")

MALFORMED_BODY = b"<html><body>upstream error (malformed by a stormproof fault rule)"
_TRUNCATED_PREFIX = b'{"id": "truncated-by-a-stormproof-fault-rule'

# True while a truncated response is being produced, so the uvicorn log line about the
# deliberately unfinished response can be dropped without hiding real ones.
truncating: contextvars.ContextVar[bool] = contextvars.ContextVar("truncating", default=False)


class TruncationLogFilter(logging.Filter):
    """Drops uvicorn's complaint about a response left unfinished on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record except the expected one during a truncation."""
        return not (truncating.get() and "without completing response" in str(record.msg))


def is_internal(path: str) -> bool:
    """Whether a path is a test endpoint or the health check (never faulted, never logged)."""
    return path in {"/healthz", "/_test"} or path.startswith("/_test/")


def _json_response(status: int, body: Any, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    if status in {204, 304}:
        return [
            {"type": "http.response.start", "status": status, "headers": headers},
            {"type": "http.response.body", "body": b""},
        ]
    payload = json.dumps(body).encode()
    headers = [
        *headers,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    return [
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": payload},
    ]


class ProviderMiddleware:
    """Wraps a provider app with request ids, logging, faults and a JSON 500 for any crash.

    Args:
        app: The wrapped ASGI app.
        service: The service name, for log lines.
        faults: The app's fault rules (consulted only in test mode).
        requests: The app's request log.
        test_mode: Whether fault rules apply.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        faults: FaultStore,
        requests: RequestLog,
        test_mode: bool,
    ) -> None:
        self.app = app
        self.service = service
        self.faults = faults
        self.requests = requests
        self.test_mode = test_mode

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        method, path = str(scope["method"]), str(scope["path"])
        internal = is_internal(path)
        outcome: dict[str, Any] = {"status": None, "started": False}
        started_at = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = request_id
                outcome["status"], outcome["started"] = message["status"], True
            await send(message)

        try:
            rule = None if internal or not self.test_mode else self.faults.take(method, path)
            if rule is None:
                await self.app(scope, receive, send_with_id)
            else:
                await self._apply(rule, scope, receive, send_with_id)
        except Exception:
            # The traceback goes to the server log only; the client gets the documented body.
            logger.exception("unhandled error in %s %s", method, path)
            if not outcome["started"]:
                for message in _json_response(
                    500, error_body("internal", "internal server error"), []
                ):
                    await send_with_id(message)
        finally:
            if not internal:
                key = headers.get("idempotency-key")
                self.requests.record(method, path, key, outcome["status"])
                self._log(
                    method, path, key, outcome["status"], request_id=request_id, since=started_at
                )

    def _log(
        self,
        method: str,
        path: str,
        key: str | None,
        status: int | None,
        *,
        request_id: str,
        since: float,
    ) -> None:
        elapsed_ms = round((time.perf_counter() - since) * 1000, 1)
        request_logger.info(
            "%s %s %s -> %s in %.1f ms",
            self.service,
            method,
            path,
            status,
            elapsed_ms,
            extra={
                "service": self.service,
                "method": method,
                "path": path,
                "status": status,
                "elapsed_ms": elapsed_ms,
                "request_id": request_id,
                "idempotency_key": key,
            },
        )

    async def _run_captured(self, scope: Scope, receive: Receive) -> list[Message]:
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        return captured

    async def _apply(self, rule: FaultRuleSpec, scope: Scope, receive: Receive, send: Send) -> None:
        if rule.mode == "slow":
            await self._slow(rule, scope, receive, send)
            return
        real: list[Message] = []
        if rule.apply == "after":
            real = await self._run_captured(scope, receive)
        if rule.mode == "status":
            extra = [(b"retry-after", rule.retry_after.encode())] if rule.retry_after else []
            body = rule.body
            if body is None:
                message = f"fault injected by a stormproof fault rule (status {rule.status})"
                body = error_body(error_type_for_status(rule.status), message)
            for message_ in _json_response(rule.status, body, extra):
                await send(message_)
        elif rule.mode == "malformed":
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(MALFORMED_BODY)).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": MALFORMED_BODY})
        else:
            await self._truncate(real, send)

    async def _slow(self, rule: FaultRuleSpec, scope: Scope, receive: Receive, send: Send) -> None:
        delay = rule.delay_ms / 1000
        if rule.apply == "before":
            await asyncio.sleep(delay)
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state[HOLD_STATE_KEY] = delay
        real = await self._run_captured(scope, receive)
        if not state.get(HOLD_DONE_STATE_KEY):
            await asyncio.sleep(delay)
        for message in real:
            await send(message)

    async def _truncate(self, real: list[Message], send: Send) -> None:
        status, headers, body = 200, [(b"content-type", b"application/json")], _TRUNCATED_PREFIX
        if real and real[0]["type"] == "http.response.start":
            status = int(real[0]["status"])
            headers = [
                (k, v) for k, v in real[0].get("headers", []) if k.lower() != b"content-length"
            ]
            body = b"".join(
                m.get("body", b"") for m in real[1:] if m["type"] == "http.response.body"
            )
        declared = max(len(body), 64)
        sent = body[: len(body) // 2]
        headers = [*headers, (b"content-length", str(declared).encode())]
        truncating.set(True)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": sent, "more_body": True})
        # Returning now leaves the response unfinished: the server closes the connection.
