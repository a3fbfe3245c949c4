"""The users service: create, get, find by email, partial update and a paginated list."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Annotated, Any, Self

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from stormproof.providers._app import ProviderContext, build_provider_app
from stormproof.providers._clock import now_iso
from stormproof.providers._errors import ApiError, not_found, validation_error
from stormproof.providers._states import StateParams, StateTemplate, param_int, param_str

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

Name = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(min_length=3, max_length=320)]


def _check_email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValueError("not a valid email address")
    return value


class UserCreate(BaseModel):
    """Body of `POST /users`."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name

    _email = field_validator("email")(_check_email)


class UserUpdate(BaseModel):
    """Body of `PATCH /users/{user_id}`: at least one field, none of them null."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    name: Name | None = None

    _email = field_validator("email")(_check_email)

    @model_validator(mode="after")
    def _some_field(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one of email, name")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} may not be null")
        return self


@dataclass(frozen=True)
class User:
    """A stored user."""

    id: str
    email: str
    name: str
    created_at: str
    updated_at: str


class UserStore:
    """Thread-safe in-memory users, in creation order, with case-insensitive unique emails."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}

    def _owner(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self._users.values() if u.email.lower() == wanted), None)

    def create(self, email: str, name: str) -> User:
        """Create a user.

        Raises:
            ApiError: 409 `conflict` when the email is taken.
        """
        with self._lock:
            if self._owner(email) is not None:
                raise ApiError(409, "conflict", "a user with this email already exists")
            now = now_iso()
            user = User(f"usr_{uuid.uuid4().hex[:16]}", email, name, now, now)
            self._users[user.id] = user
            return user

    def get(self, user_id: str) -> User | None:
        """The user with this id, if any."""
        with self._lock:
            return self._users.get(user_id)

    def find_email(self, email: str) -> User | None:
        """The user with this email (case-insensitive), if any."""
        with self._lock:
            return self._owner(email)

    def update(self, user_id: str, changes: dict[str, str]) -> User:
        """Apply a partial update.

        Raises:
            ApiError: 404 for an unknown user, 409 when the new email belongs to another user.
        """
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                raise not_found("user")
            if "email" in changes:
                owner = self._owner(changes["email"])
                if owner is not None and owner.id != user_id:
                    raise ApiError(409, "conflict", "a user with this email already exists")
            updated = replace(user, **changes, updated_at=now_iso())
            self._users[user_id] = updated
            return updated

    def page(self, page: int, page_size: int) -> tuple[list[User], int]:
        """One page of users in creation order, and the total count."""
        with self._lock:
            users = list(self._users.values())
        start = (page - 1) * page_size
        return users[start : start + page_size], len(users)

    def put(self, user: User) -> User:
        """Insert or replace a user by id, evicting another user holding its email (states)."""
        with self._lock:
            owner = self._owner(user.email)
            if owner is not None and owner.id != user.id:
                del self._users[owner.id]
            self._users[user.id] = user
            return user

    def delete(self, user_id: str) -> None:
        """Remove a user if present."""
        with self._lock:
            self._users.pop(user_id, None)

    def delete_email(self, email: str) -> None:
        """Remove the user holding this email, if any."""
        with self._lock:
            owner = self._owner(email)
            if owner is not None:
                del self._users[owner.id]

    def clear(self) -> None:
        """Remove every user."""
        with self._lock:
            self._users.clear()


def _router(store: UserStore) -> APIRouter:
    router = APIRouter()

    @router.post("/users", status_code=201)
    def create_user(body: UserCreate) -> JSONResponse:
        return JSONResponse(asdict(store.create(body.email, body.name)), status_code=201)

    @router.get("/users/lookup")
    def lookup_user(email: Annotated[Email, Query()]) -> dict[str, Any]:
        _check_email_query(email)
        user = store.find_email(email)
        if user is None:
            raise not_found("user")
        return asdict(user)

    @router.get("/users/{user_id}")
    def get_user(user_id: str) -> dict[str, Any]:
        user = store.get(user_id)
        if user is None:
            raise not_found("user")
        return asdict(user)

    @router.patch("/users/{user_id}")
    def update_user(user_id: str, body: UserUpdate) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        return asdict(store.update(user_id, changes))

    @router.get("/users")
    def list_users(
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        users, total = store.page(page, page_size)
        return {
            "items": [asdict(u) for u in users],
            "page": page,
            "page_size": page_size,
            "total": total,
        }

    return router


def _check_email_query(email: str) -> None:
    if not _EMAIL.fullmatch(email):
        raise validation_error("email", "not a valid email address")


# --- provider states ---------------------------------------------------------------------------


def _no_users(store: UserStore, _params: StateParams) -> dict[str, Any]:
    store.clear()
    return {}


def _seed_user(store: UserStore, params: StateParams) -> dict[str, Any]:
    uid = param_str(params, "id", f"usr_{uuid.uuid4().hex[:16]}")
    now = now_iso()
    user = User(
        uid,
        param_str(params, "email", f"{uid}@example.com"),
        param_str(params, "name", "Test User"),
        param_str(params, "created_at", now),
        param_str(params, "updated_at", now),
    )
    return asdict(store.put(user))


def _many_users(store: UserStore, params: StateParams) -> dict[str, Any]:
    count = param_int(params, "count", 0)
    store.clear()
    for i in range(1, min(count, 1000) + 1):
        _seed_user(store, {"id": f"usr_{i}", "name": f"User {i}"})
    return {"count": count}


def _no_user_email(store: UserStore, params: StateParams) -> dict[str, Any]:
    store.delete_email(param_str(params, "email"))
    return {"email": params["email"]}


def _no_user_id(store: UserStore, params: StateParams) -> dict[str, Any]:
    store.delete(param_str(params, "id"))
    return {"id": params["id"]}


# Params of the user states: id, email (default `<id>@example.com`), name (default "Test User"),
# created_at, updated_at.
_STATE_HANDLERS: dict[str, Callable[[UserStore, StateParams], dict[str, Any]]] = {
    "a user with id {id} exists": _seed_user,
    "no user with id {id} exists": _no_user_id,
    "a user with email {email} exists": _seed_user,
    "no user with email {email} exists": _no_user_email,
    "{count} users exist": _many_users,
    "no users exist": _no_users,
}
STATE_NAMES = tuple(_STATE_HANDLERS)


def create_users_app(*, test_mode: bool = False) -> FastAPI:
    """Build a users-service app with its own empty in-memory store.

    Args:
        test_mode: Mount the `/_test` endpoints and honour fault rules.
    """
    ctx = ProviderContext("users", test_mode=test_mode)
    store = UserStore()
    ctx.on_reset(store.clear)
    states = [StateTemplate(name, partial(h, store)) for name, h in _STATE_HANDLERS.items()]
    app = build_provider_app(ctx, routers=[_router(store)], states=states)
    app.state.store = store
    return app
