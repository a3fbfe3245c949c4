"""The one request pipeline every service client runs its operations through.

Per logical call: validate the request model → check the breaker → tenacity attempt loop →
per-attempt timeouts ``min(configured, time left)`` under a wall-clock deadline watchdog →
classify the outcome → validate the response model → emit events and structured logs.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any
from urllib.parse import quote

import pydantic
import requests
import tenacity
import urllib3.exceptions

from clients._breaker import Admission, Breaker, Verdict
from clients._classify import (
    AttemptInfo,
    Outcome,
    classify_exception,
    classify_status,
    truncated_outcome,
)
from clients._deadline import WatchdogAdapter, end_watch, start_watch
from clients._errors import (
    CircuitOpenError,
    ClientRequestError,
    DeadlineExceededError,
    FieldProblem,
    PaymentOutcomeUnknownError,
    RequestValidationError,
    ResponseValidationError,
    ServiceError,
)
from clients._events import (
    AttemptEvent,
    BreakerEvent,
    BreakerState,
    CallEvent,
    ClientEvent,
    EventListener,
)
from clients._operation import Operation, ReqT, RequestModel, RespT
from clients._policy import ResiliencePolicy
from clients._redact import logger, redact, register_secret
from clients._retry import RetryContext, build_retrying
from clients._runtime import Runtime

__all__ = ["Pipeline"]

_TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)


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


def _user_agent() -> str:
    try:
        return f"stormproof/{metadata.version('stormproof')}"
    except metadata.PackageNotFoundError:
        return "stormproof/0"


_USER_AGENT = _user_agent()
_ids = random.Random()  # seeded from os.urandom once; request ids need uniqueness, not secrecy


def _request_id() -> str:
    # A version-4 UUID without a getrandom() syscall per request (measured: 7 us -> 1 us).
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


@dataclass(slots=True)
class _Attempt:
    """An attempt whose event waits for the retry decision."""

    method: str
    path: str
    number: int
    started_at: float
    elapsed_s: float
    outcome: str
    status_code: int | None
    request_id: str


@dataclass(slots=True, kw_only=True)
class _Call(RetryContext):
    """State of one logical call (also the tenacity strategies' context)."""

    op: Operation[Any, Any]
    started: float
    key: str | None
    secrets: tuple[str, ...] = ()
    attempts: int = 0
    ambiguous: bool = False
    status_code: int | None = None
    request_id: str | None = None
    pending: _Attempt | None = None
    problems: list[FieldProblem] = field(default_factory=list)


class Pipeline:
    """Executes operations for one client instance: session, breaker, retries, events."""

    def __init__(
        self,
        service: str,
        base_url: str,
        policy: ResiliencePolicy,
        runtime: Runtime,
        token: str | None = None,
    ) -> None:
        """Create the pipeline of one client.

        Args:
            service: Service name.
            base_url: Service root URL (``http://host:port``).
            policy: Resilience policy.
            runtime: Clock, sleep and random source.
            token: Bearer token to send, if any.
        """
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.policy = policy
        self.runtime = runtime
        self._listeners: tuple[EventListener, ...] = ()
        self._listeners_lock = threading.Lock()
        # The adapter, not a requests.Session: a session's per-call merging of cookies, hooks,
        # environment settings and redirects cost ~25% of a local call and is not needed here
        # (no cookies, no redirects, no proxies or .netrc credentials from the environment).
        self._adapter = WatchdogAdapter(
            pool_connections=4, pool_maxsize=policy.pool_maxsize, max_retries=0
        )
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": _USER_AGENT,
        }
        if token:
            register_secret(token)
            self._headers["Authorization"] = f"Bearer {token}"
        self.breaker = Breaker(service, policy.breaker, runtime.clock, self._breaker_changed)
        self._retrying = build_retrying(policy.retry, runtime.sleep, self._before_sleep)

    def close(self) -> None:
        """Close the pooled connections."""
        self._adapter.close()

    def add_listener(self, listener: EventListener) -> None:
        """Register an event listener."""
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: EventListener) -> None:
        """Unregister an event listener (no error if it was not registered)."""
        with self._listeners_lock:
            self._listeners = tuple(item for item in self._listeners if item != listener)

    def _emit(self, event: ClientEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("event listener %r failed; event dropped", listener)

    # ----------------------------------------------------------------- the logical call

    def call(self, op: Operation[ReqT, RespT], inputs: Mapping[str, Any]) -> RespT:
        """Run one logical call of ``op`` with the caller's ``inputs``.

        Args:
            op: The operation.
            inputs: Keyword arguments of the client method.

        Returns:
            The validated response model.

        Raises:
            ServiceError: A subclass saying what went wrong (see ``clients._errors``).
        """
        clock = self.runtime.clock
        started = clock()
        ctx = _Call(
            deadline=started + self.policy.deadline_s,
            clock=clock,
            random=self.runtime.random,
            op=op,
            started=started,
            key=None,
        )
        try:
            request = self._validate(op, inputs, ctx)
            result: RespT = self._retrying(self._attempt, ctx, request)
        except ServiceError as error:
            final = self._final_error(ctx, error)
            self._finish(ctx, final)
            raise final from final.cause
        self._finish(ctx, None)
        return result

    def _validate(self, op: Operation[ReqT, Any], inputs: Mapping[str, Any], ctx: _Call) -> ReqT:
        key = inputs.get("idempotency_key") if op.keyed else None
        ctx.key = key if isinstance(key, str) else None
        ctx.secrets = tuple(
            str(inputs[name]) for name in op.secret_fields if inputs.get(name) is not None
        )
        try:
            return op.request.model_validate(dict(inputs))
        except pydantic.ValidationError as exc:
            problems = tuple(
                FieldProblem(".".join(str(p) for p in err["loc"]) or "(arguments)", err["msg"])
                for err in exc.errors(include_url=False, include_input=False)
            )
            listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
            raise RequestValidationError(
                redact(f"invalid arguments, nothing was sent: {listed}", ctx.secrets),
                service=self.service,
                operation=op.name,
                idempotency_key=ctx.key,
                problems=problems,
            ) from None

    def _final_error(self, ctx: _Call, error: ServiceError) -> ServiceError:
        error.attempts = ctx.attempts
        error.elapsed_s = ctx.clock() - ctx.started
        definitive = isinstance(error, ClientRequestError) and (
            error.error_type != "idempotency_in_flight"
        )
        if not (ctx.op.outcome_unknown and ctx.ambiguous and ctx.key and not definitive):
            return error
        return PaymentOutcomeUnknownError(
            f"{ctx.op.name} failed ambiguously: {type(error).__name__}: {error.detail}",
            idempotency_key=ctx.key,
            service=self.service,
            operation=ctx.op.name,
            attempts=ctx.attempts,
            elapsed_s=error.elapsed_s,
            cause=error,
            request_id=error.request_id,
            status_code=error.status_code,
            error_type=error.error_type,
        )

    def _finish(self, ctx: _Call, error: ServiceError | None) -> None:
        self._flush_attempt(ctx, will_retry=False, backoff_s=None)
        elapsed = ctx.clock() - ctx.started
        outcome = "ok" if error is None else type(error).__name__
        state = self.breaker.state
        if self._listeners:
            message = None if error is None else str(error)
            self._emit(
                CallEvent(
                    self.service,
                    ctx.op.name,
                    ctx.attempts,
                    elapsed,
                    outcome,
                    state,
                    ctx.key,
                    message,
                )
            )
        if error is None:
            level = logging.DEBUG
        elif isinstance(error, ClientRequestError | RequestValidationError):
            level = logging.INFO  # the service answered; the caller decides if it matters
        else:
            level = logging.WARNING
        if logger.isEnabledFor(level):
            text = "call ok" if error is None else f"call failed: {error}"
            logger.log(level, "%s", text, extra=self._extra(ctx, ctx.pending, elapsed, state))

    # ----------------------------------------------------------------- one attempt

    def _attempt(self, ctx: _Call, request: RequestModel) -> Any:
        op = ctx.op
        ctx.retryable = False
        ctx.retry_after = None
        started = ctx.clock()
        remaining = ctx.deadline - started
        if remaining <= 0:
            raise DeadlineExceededError(
                "no time left before the call's deadline for another attempt",
                service=self.service,
                operation=op.name,
                idempotency_key=ctx.key,
                request_id=ctx.request_id,
                status_code=ctx.status_code,
            )
        admission = self.breaker.admit()
        if not admission.allowed:
            raise CircuitOpenError(
                f"circuit breaker is {self.breaker.state.value}; no request was sent",
                retry_after=admission.retry_after,
                service=self.service,
                operation=op.name,
                idempotency_key=ctx.key,
            )
        ctx.attempts += 1
        request_id = _request_id()
        ctx.request_id = request_id
        path = op.path.format(
            **{name: quote(str(getattr(request, name)), safe="") for name in op.path_fields}
        )
        connect = min(self.policy.connect_timeout_s, remaining)
        read = min(self.policy.read_timeout_s, remaining)
        info = AttemptInfo(
            service=self.service,
            operation=op.name,
            method=op.method,
            path=path,
            request_id=request_id,
            idempotency_key=ctx.key,
            retry_safe=op.idempotent or ctx.key is not None,
            connect_capped=connect < self.policy.connect_timeout_s,
            read_capped=read < self.policy.read_timeout_s,
            secrets=ctx.secrets,
        )
        try:
            result, outcome, status = self._exchange(op, request, info, (connect, read), remaining)
        except BaseException:
            self.breaker.record(admission, Verdict.NEUTRAL)
            raise
        self._settle(
            ctx, admission=admission, outcome=outcome, status=status, started=started, info=info
        )
        if outcome is not None:
            raise outcome.error
        return result

    def _exchange(
        self,
        op: Operation[Any, Any],
        request: RequestModel,
        info: AttemptInfo,
        timeout: tuple[float, float],
        remaining: float,
    ) -> tuple[Any, Outcome | None, int | None]:
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
        if watch.expired:
            response.close()
            cut = requests.ConnectionError("deadline watchdog closed the connection")
            return None, classify_exception(cut, info, expired=True), response.status_code
        if not 200 <= response.status_code < 300:
            now = self.runtime.wall_clock()
            return None, classify_status(response, info, now), response.status_code
        result, outcome = self._parse(op, response, info)
        return result, outcome, response.status_code

    def _parse(
        self, op: Operation[Any, Any], response: requests.Response, info: AttemptInfo
    ) -> tuple[Any, Outcome | None]:
        if _cut_short(response):
            where = f"{info.method} {info.path} answered {response.status_code}, cut short"
            return None, truncated_outcome(where, info, None)
        content_type = response.headers.get("Content-Type") or ""
        media = content_type.partition(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            detail = f"with content type {content_type or '(none)'!r}, not JSON"
            return None, self._unusable(response, info, detail, ())
        try:
            return op.response.model_validate_json(response.content), None
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            if any(err["type"] == "json_invalid" for err in errors):
                return None, self._unusable(
                    response, info, "with a body that is not valid JSON", ()
                )
            problems = tuple(
                FieldProblem(".".join(str(p) for p in err["loc"]) or "(body)", err["msg"])
                for err in errors
            )
            listed = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
            detail = f"with a body that does not match {op.response.__name__}: {listed}"
            return None, self._unusable(response, info, detail, problems)

    @staticmethod
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

    # ----------------------------------------------------------------- events and logs

    def _settle(
        self,
        ctx: _Call,
        *,
        admission: Admission,
        outcome: Outcome | None,
        status: int | None,
        started: float,
        info: AttemptInfo,
    ) -> None:
        verdict = Verdict.SUCCESS if outcome is None else outcome.verdict
        self.breaker.record(admission, verdict)
        if outcome is not None:
            ctx.retryable = outcome.retryable
            ctx.retry_after = outcome.retry_after
            ctx.ambiguous = ctx.ambiguous or outcome.ambiguous
        ctx.status_code = status
        ctx.pending = _Attempt(
            method=info.method,
            path=info.path,
            number=ctx.attempts,
            started_at=started,
            elapsed_s=ctx.clock() - started,
            outcome="ok" if outcome is None else type(outcome.error).__name__,
            status_code=status,
            request_id=info.request_id,
        )

    def _before_sleep(self, retry_state: tenacity.RetryCallState) -> None:
        ctx = retry_state.args[0]
        assert isinstance(ctx, _Call)
        self._flush_attempt(ctx, will_retry=True, backoff_s=retry_state.upcoming_sleep)

    def _flush_attempt(self, ctx: _Call, *, will_retry: bool, backoff_s: float | None) -> None:
        attempt = ctx.pending
        if attempt is None:
            return
        ctx.pending = None
        state = self.breaker.state
        if self._listeners:
            self._emit(
                AttemptEvent(
                    service=self.service,
                    operation=ctx.op.name,
                    method=attempt.method,
                    path=attempt.path,
                    attempt=attempt.number,
                    started_at=attempt.started_at,
                    elapsed_s=attempt.elapsed_s,
                    outcome=attempt.outcome,
                    status_code=attempt.status_code,
                    breaker_state=state,
                    idempotency_key=ctx.key,
                    request_id=attempt.request_id,
                    will_retry=will_retry,
                    backoff_s=backoff_s,
                )
            )
        failed = attempt.outcome != "ok"
        level = logging.INFO if failed else logging.DEBUG
        if logger.isEnabledFor(level):
            then = (
                f"; retrying in {backoff_s:.3f} s" if will_retry and backoff_s is not None else ""
            )
            logger.log(
                level,
                "attempt %d %s%s",
                attempt.number,
                attempt.outcome,
                then,
                extra=self._extra(ctx, attempt, attempt.elapsed_s, state),
            )

    def _extra(
        self, ctx: _Call, attempt: _Attempt | None, elapsed_s: float, state: BreakerState
    ) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": ctx.op.name,
            "method": ctx.op.method,
            "path": attempt.path if attempt else ctx.op.path,
            "attempt": attempt.number if attempt else ctx.attempts,
            "status": attempt.status_code if attempt else ctx.status_code,
            "elapsed_ms": round(elapsed_s * 1000, 3),
            "breaker_state": state.value,
            "idempotency_key": ctx.key,
            "request_id": attempt.request_id if attempt else ctx.request_id,
        }

    def _breaker_changed(self, event: BreakerEvent) -> None:
        level = logging.WARNING if event.new_state is BreakerState.OPEN else logging.INFO
        logger.log(
            level,
            "circuit breaker %s -> %s",
            event.old_state.value,
            event.new_state.value,
            extra={"service": self.service, "breaker_state": event.new_state.value},
        )
        self._emit(event)
