"""The notification service: send (email, sms, push) under an Idempotency-Key, and status."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from stormproof.providers._app import ProviderContext, build_provider_app
from stormproof.providers._clock import now_iso, now_iso_ms
from stormproof.providers._errors import not_found
from stormproof.providers._idempotency import IdempotencyStore, fingerprint, run_idempotent
from stormproof.providers._states import StateError, StateParams, StateTemplate, param_str
from stormproof.providers._testmode import TEST_PREFIX

Channel = Literal["email", "sms", "push"]
Status = Literal["queued", "sent", "delivered", "failed"]


class NotificationCreate(BaseModel):
    """Body of `POST /notifications`."""

    model_config = ConfigDict(extra="forbid")

    channel: Channel
    recipient: Annotated[str, Field(min_length=1, max_length=320)]
    subject: Annotated[str, Field(max_length=998)] | None = None
    body: Annotated[str, Field(min_length=1, max_length=10_000)]


@dataclass(frozen=True)
class Notification:
    """A stored notification."""

    id: str
    channel: str
    recipient: str
    status: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class SentRecord:
    """One notification handed to its channel, as `GET /_test/sent` reports it."""

    notification_id: str
    idempotency_key: str | None
    channel: str
    recipient: str
    at: str


class NotificationStore:
    """Thread-safe notifications and the log of what was actually sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Notification] = {}
        self._sent: list[SentRecord] = []

    def send(
        self, request: NotificationCreate, key: str | None, notification_id: str | None = None
    ) -> Notification:
        """Create a notification, record it as sent and return it (status `queued`)."""
        now = now_iso()
        item = Notification(
            notification_id or f"ntf_{uuid.uuid4().hex[:16]}",
            request.channel,
            request.recipient,
            "queued",
            now,
            now,
        )
        with self._lock:
            self._items[item.id] = item
            self._sent.append(SentRecord(item.id, key, item.channel, item.recipient, now_iso_ms()))
        return item

    def get(self, notification_id: str) -> Notification | None:
        """The notification with this id, if any."""
        with self._lock:
            return self._items.get(notification_id)

    def put(self, item: Notification) -> Notification:
        """Insert or replace a notification by id (states); nothing is recorded as sent."""
        with self._lock:
            self._items[item.id] = item
        return item

    def delete(self, notification_id: str) -> None:
        """Remove a notification if present."""
        with self._lock:
            self._items.pop(notification_id, None)

    def sent(self) -> dict[str, Any]:
        """The `/_test/sent` body: every send, and how many sends each key caused."""
        with self._lock:
            records = [asdict(r) for r in self._sent]
        by_key: dict[str, int] = {}
        for record in records:
            if record["idempotency_key"] is not None:
                by_key[record["idempotency_key"]] = by_key.get(record["idempotency_key"], 0) + 1
        return {"count": len(records), "sent": records, "by_key": by_key}

    def clear(self) -> None:
        """Forget every notification and send."""
        with self._lock:
            self._items.clear()
            self._sent.clear()


def _router(store: NotificationStore, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter()

    @router.post("/notifications", status_code=202)
    def send_notification(
        request: Request,
        body: NotificationCreate,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        def operation(key: str) -> tuple[int, Any]:
            return 202, asdict(store.send(body, key))

        return run_idempotent(
            request, keys, idempotency_key, body.model_dump(mode="json"), operation
        )

    @router.get("/notifications/{notification_id}")
    def get_notification(notification_id: str) -> dict[str, Any]:
        item = store.get(notification_id)
        if item is None:
            raise not_found("notification")
        return asdict(item)

    return router


def _test_router(store: NotificationStore) -> APIRouter:
    router = APIRouter(prefix=TEST_PREFIX)

    @router.get("/sent")
    def sent() -> dict[str, Any]:
        return store.sent()

    return router


# --- provider states ---------------------------------------------------------------------------

_STATUSES = ("queued", "sent", "delivered", "failed")


def _seed(store: NotificationStore, params: StateParams) -> dict[str, Any]:
    status = param_str(params, "status", "queued")
    if status not in _STATUSES:
        raise StateError(f"provider state parameter 'status' must be one of {_STATUSES}")
    now = now_iso()
    item = Notification(
        param_str(params, "id"),
        param_str(params, "channel", "email"),
        param_str(params, "recipient", "ada@example.com"),
        status,
        param_str(params, "created_at", now),
        param_str(params, "updated_at", now),
    )
    return asdict(store.put(item))


def _absent(store: NotificationStore, params: StateParams) -> dict[str, Any]:
    store.delete(param_str(params, "id"))
    return {"id": params["id"]}


def _sent_with_key(
    store: NotificationStore, keys: IdempotencyStore, params: StateParams
) -> dict[str, Any]:
    key = param_str(params, "key")
    try:
        request = NotificationCreate(
            channel=param_str(params, "channel", "email"),
            recipient=param_str(params, "recipient", "ada@example.com"),
            subject=params.get("subject"),
            body=param_str(params, "body", "Hello"),
        )
    except ValueError as exc:
        raise StateError(f"invalid notification parameters: {exc}") from None
    notification_id = param_str(params, "id") if params.get("id") else None
    item = asdict(store.send(request, key, notification_id))
    print_ = fingerprint("POST", "/notifications", request.model_dump(mode="json"))
    keys.seed(key, print_, 202, item, done=True)
    return {**item, "key": key}


def _key_in_flight(keys: IdempotencyStore, params: StateParams) -> dict[str, Any]:
    key = param_str(params, "key")
    keys.seed(key, None, 0, None, done=False)
    return {"key": key}


def _handlers(
    store: NotificationStore, keys: IdempotencyStore
) -> dict[str, Callable[[StateParams], dict[str, Any]]]:
    # Params: id, channel (email), recipient (ada@example.com), status (queued), subject, body.
    return {
        "a notification with id {id} exists": partial(_seed, store),
        "no notification with id {id} exists": partial(_absent, store),
        "a notification was sent with idempotency key {key}": partial(_sent_with_key, store, keys),
        "a request with idempotency key {key} is in flight": partial(_key_in_flight, keys),
    }


STATE_NAMES = tuple(_handlers(NotificationStore(), IdempotencyStore()))


def create_notifications_app(*, test_mode: bool = False) -> FastAPI:
    """Build a notification-service app with its own empty in-memory store.

    Args:
        test_mode: Mount the `/_test` endpoints (including `/_test/sent`) and honour fault rules.
    """
    ctx = ProviderContext("notifications", test_mode=test_mode)
    store, keys = NotificationStore(), IdempotencyStore()
    ctx.on_reset(store.clear)
    ctx.on_reset(keys.clear)
    states = [StateTemplate(name, h) for name, h in _handlers(store, keys).items()]
    app = build_provider_app(
        ctx, routers=[_router(store, keys)], states=states, test_routers=[_test_router(store)]
    )
    app.state.store = store
    app.state.idempotency = keys
    return app
