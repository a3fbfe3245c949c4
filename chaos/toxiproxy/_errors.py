"""Errors raised by the toxiproxy API client.

The tree, by what went wrong::

    ToxiproxyError                      any failed API call; carries ``status`` and ``message``
    ├── ToxiproxyConnectionError        no HTTP answer at all (refused, timed out); status 0
    ├── ToxiproxyBadRequestError        400: malformed body, bad attribute, unknown toxic type
    ├── ToxiproxyNotFoundError          404: no such proxy or toxic
    ├── ToxiproxyConflictError          409: a proxy or toxic with that name already exists
    └── ToxiproxyServerError            5xx: the server could not do it (e.g. listen port busy)
"""

from __future__ import annotations


class ToxiproxyError(Exception):
    """A toxiproxy API call failed.

    Attributes:
        status: The HTTP status of the answer, or 0 when there was no answer.
        message: The server's ``error`` text, or a description of the failure.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        if self.status:
            return f"HTTP {self.status}: {self.message}"
        return self.message


class ToxiproxyConnectionError(ToxiproxyError):
    """The API did not answer: connection refused, reset or timed out."""


class ToxiproxyBadRequestError(ToxiproxyError):
    """The server rejected the request body (HTTP 400)."""


class ToxiproxyNotFoundError(ToxiproxyError):
    """The proxy or toxic does not exist (HTTP 404)."""


class ToxiproxyConflictError(ToxiproxyError):
    """A proxy or toxic with that name already exists (HTTP 409)."""


class ToxiproxyServerError(ToxiproxyError):
    """The server failed to carry out the request (HTTP 5xx)."""


def error_for_status(status: int, message: str) -> ToxiproxyError:
    """Build the most specific error for an HTTP status.

    Args:
        status: HTTP status code of the failed answer.
        message: Error text from the answer.

    Returns:
        An instance of the matching `ToxiproxyError` subclass.
    """
    if status == 400:
        return ToxiproxyBadRequestError(status, message)
    if status == 404:
        return ToxiproxyNotFoundError(status, message)
    if status == 409:
        return ToxiproxyConflictError(status, message)
    if status >= 500:
        return ToxiproxyServerError(status, message)
    return ToxiproxyError(status, message)
