"""The attributes of the ``http`` toxic (a stormproof extension): strings as well as integers.

Toxiproxy's own toxics have integer attributes only (``AttrSpec``); an HTTP fault needs a method,
a path, headers and a body, so this type declares its attributes as one pydantic model. Unknown
names are ignored, as Toxiproxy ignores them; a bad value is a 400 naming the attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stormproof.chaos.toxiproxy._api_error import ApiError

HttpMode = Literal["status", "slow", "drip", "malformed", "truncated", "lost"]


class HttpAttributes(BaseModel):
    """What one ``http`` toxic does to the requests it matches.

    Attributes:
        mode: ``status`` answers `status`/`headers`/`body`; ``slow`` delays the answer's first
            byte by `delay_ms` (``before``: holds the request that long instead); ``drip`` sends
            the answer's body `drip_bytes` at a time, `delay_ms` apart; ``malformed`` replaces
            the body with `body` (default: bytes that are not what Content-Type says);
            ``truncated`` sends the head and `bytes` bytes of the body, then closes; ``lost``
            forwards the request and closes the connection when the answer starts (request
            sent, answer lost).
        apply: ``before`` answers without forwarding the request (nothing processed);
            ``after`` forwards it and acts on the upstream's answer (processed).
        method: Only requests with this method (empty: any).
        path: Only this path (query excluded); a trailing ``*`` makes it a prefix (empty: any).
        count: Act on the next `count` matching requests only (0: every one).
        status: The status of a ``status`` answer.
        retry_after: A Retry-After header (seconds or an HTTP-date) on a ``status`` answer.
        headers: More headers on a ``status`` answer.
        body: The body of a ``status`` or ``malformed`` answer (empty: a default).
        content_type: The Content-Type of a ``status`` answer.
        delay_ms: ``slow``: the delay; ``drip``: the pause between pieces.
        drip_bytes: ``drip``: bytes per piece.
        bytes: ``truncated``: body bytes sent before the close.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    mode: HttpMode = "status"
    apply: Literal["before", "after"] = "before"
    method: str = ""
    path: str = ""
    count: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0
    status: Annotated[int, Field(ge=100, le=599)] = 503
    retry_after: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""
    content_type: str = "application/json"
    delay_ms: Annotated[int, Field(ge=0, le=2**31 - 1)] = 1000
    drip_bytes: Annotated[int, Field(ge=1, le=2**31 - 1)] = 1
    bytes: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if value and value != "*" and not value.startswith("/"):
            raise ValueError("must be empty, '*' or start with '/'")
        return value

    @field_validator("retry_after", mode="before")
    @classmethod
    def _seconds_as_text(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("headers")
    @classmethod
    def _header_text(cls, value: dict[str, str]) -> dict[str, str]:
        for name, item in value.items():
            if not name or any(c in name for c in " :\r\n\t") or any(c in item for c in "\r\n"):
                raise ValueError(f"not a valid header: {name!r}")
        return value

    def matcher(self) -> RequestMatcher:
        """The method and path rule, for the bytes of request lines."""
        return RequestMatcher(self.method, self.path)


class RequestMatcher:
    """Which requests an ``http`` toxic acts on, compared as the bytes they arrive in.

    Attributes:
        method: Only requests with this method (empty: any).
        path: Only this path, or paths starting with it when `prefix` (None: any path).
        prefix: The rule's path ended with ``*``.
    """

    __slots__ = ("method", "path", "prefix")

    def __init__(self, method: str, path: str) -> None:
        self.method = method.encode()
        self.prefix = path.endswith("*") and path != "*"
        self.path = None if path in ("", "*") else path.removesuffix("*").encode()

    def hits(self, method: bytes, path: bytes) -> bool:
        """Whether a request with this method and path (query excluded) is one to act on."""
        if self.method and self.method != method:
            return False
        rule = self.path
        if rule is None:
            return True
        return path.startswith(rule) if self.prefix else path == rule


def parse_http_attributes(raw: object, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge JSON attributes over `base` (or the defaults) and check them.

    Raises:
        ApiError: 400 naming the attribute that is wrong.
    """
    merged: dict[str, Any] = dict(base) if base is not None else {}
    if raw is not None:
        if not isinstance(raw, dict):
            raise ApiError("invalid http toxic: attributes must be a JSON object", 400)
        merged.update({k: v for k, v in raw.items() if v is not None})
    try:
        model = HttpAttributes.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"attribute {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise ApiError(f"invalid http toxic: {problems}", 400) from None
    return model.model_dump()


def http_attributes_schema() -> dict[str, Any]:
    """The JSON Schema of an ``http`` toxic's attributes (scenario files refuse unknown names)."""
    schema = HttpAttributes.model_json_schema()
    schema.pop("title", None)
    schema["additionalProperties"] = False
    return schema
