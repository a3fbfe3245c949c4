"""The user service client and its models (``docs/service-api.md``, Users service)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StrictInt, model_validator

from stormproof.clients._base import ServiceClient
from stormproof.clients._operation import Email, Operation, RequestModel, ResourceId, ResponseModel

__all__ = ["User", "UserPage", "UserServiceClient"]

_Name = Annotated[str, Field(min_length=1, max_length=200)]


class User(ResponseModel):
    """A user."""

    id: str
    email: str
    name: str
    created_at: datetime
    updated_at: datetime


class UserPage(ResponseModel):
    """One page of users, in creation order."""

    items: tuple[User, ...]
    page: int
    page_size: int
    total: int


class _UserId(RequestModel):
    user_id: ResourceId


class _ByEmail(RequestModel):
    email: Email


class _CreateUser(RequestModel):
    email: Email
    name: _Name


class _UpdateUser(RequestModel):
    user_id: ResourceId
    email: Email | None = None
    name: _Name | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if self.email is None and self.name is None:
            raise ValueError("give at least one of email or name to change")
        return self


class _ListUsers(RequestModel):
    page: Annotated[StrictInt, Field(ge=1)] = 1
    page_size: Annotated[StrictInt, Field(ge=1, le=100)] = 20


_GET = Operation("get_user", "GET", "/users/{user_id}", _UserId, User)
_FIND = Operation("find_user_by_email", "GET", "/users/lookup", _ByEmail, User, query=("email",))
_CREATE = Operation("create_user", "POST", "/users", _CreateUser, User)
_UPDATE = Operation(
    "update_user", "PATCH", "/users/{user_id}", _UpdateUser, User, drop_none_body=True
)
_LIST = Operation("list_users", "GET", "/users", _ListUsers, UserPage, query=("page", "page_size"))


class UserServiceClient(ServiceClient):
    """Client of the user service: read, find, create, update and list users.

    ``create_user`` and ``update_user`` are not idempotent and carry no key, so they are
    retried only when the failure happened before the request was sent.
    """

    service = "users"

    def get_user(self, user_id: str) -> User:
        """Fetch a user by id.

        Args:
            user_id: The user's id.

        Returns:
            The user.

        Raises:
            NotFoundError: No such user.
            ServiceError: Another failure (see ``stormproof.clients._errors``).
        """
        return self._call(_GET, user_id=user_id)

    def find_user_by_email(self, email: str) -> User:
        """Find the user with an email address.

        Args:
            email: The address to look up.

        Returns:
            The user.

        Raises:
            NotFoundError: No user has that address.
            ServiceError: Another failure.
        """
        return self._call(_FIND, email=email)

    def create_user(self, *, email: str, name: str) -> User:
        """Create a user.

        Args:
            email: Email address (unique).
            name: Display name, 1..200 characters.

        Returns:
            The created user.

        Raises:
            ConflictError: The email address is taken.
            ServiceError: Another failure.
        """
        return self._call(_CREATE, email=email, name=name)

    def update_user(
        self, user_id: str, *, email: str | None = None, name: str | None = None
    ) -> User:
        """Change a user's email and/or name (fields left None are unchanged).

        Args:
            user_id: The user's id.
            email: New email address.
            name: New display name.

        Returns:
            The updated user.

        Raises:
            RequestValidationError: Neither field given.
            NotFoundError: No such user.
            ConflictError: The new email address is taken.
            ServiceError: Another failure.
        """
        return self._call(_UPDATE, user_id=user_id, email=email, name=name)

    def list_users(self, page: int = 1, page_size: int = 20) -> UserPage:
        """List users, a page at a time, in creation order.

        Args:
            page: Page number, from 1.
            page_size: Users per page, 1..100.

        Returns:
            The page.

        Raises:
            ServiceError: The call failed.
        """
        return self._call(_LIST, page=page, page_size=page_size)

    def iter_users(self, page_size: int = 100, max_pages: int = 10_000) -> Iterator[User]:
        """Yield every user, fetching pages lazily.

        Args:
            page_size: Users per request, 1..100.
            max_pages: Upper bound on requests, so a misbehaving service cannot loop forever.

        Yields:
            Users in creation order.

        Raises:
            ServiceError: A page could not be fetched.
        """
        for page in range(1, max_pages + 1):
            batch = self.list_users(page=page, page_size=page_size)
            yield from batch.items
            if not batch.items or page * page_size >= batch.total:
                return
