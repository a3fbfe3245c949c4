"""A pact's interactions, each mapped to the client operation that sends its request."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from stormproof.chaos.pact import read_pact
from stormproof.clients import Operation

__all__ = ["Interaction", "match_operation", "read_interactions"]


@dataclass(frozen=True)
class Interaction:
    """One request/response pair of a pact file (HTTP interactions only).

    Attributes:
        description: The interaction's description, unique within its pact.
        states: Provider states with their parameters, in the pact's order.
        method: HTTP method (upper case).
        path: Request path.
        query: Query parameters (the last value of a repeated name).
        headers: Request headers, names as the pact spells them.
        body: Request body (parsed JSON), or None.
        status: The response status the provider promises.
        response_body: The promised response body, or None.
    """

    description: str
    states: tuple[tuple[str, Mapping[str, Any]], ...]
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    status: int = 200
    response_body: Any = None

    def header(self, name: str) -> str | None:
        """A request header's value, the name matched case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def error_type(self) -> str | None:
        """The `error.type` of the promised body, if it is an error body."""
        body = self.response_body
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
            kind = body["error"].get("type")
            return kind if isinstance(kind, str) else None
        return None


def _query(raw: Any) -> dict[str, str]:
    if isinstance(raw, str):  # V2: "a=1&b=2"
        return dict(parse_qsl(raw, keep_blank_values=True))
    if isinstance(raw, Mapping):  # V3/V4: {"a": ["1"]}
        return {
            str(name): str(values[-1] if isinstance(values, list) and values else values)
            for name, values in raw.items()
        }
    return {}


def _headers(raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    # V4 gives every header as a list of values; V2/V3 as one string.
    return {
        str(name): ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        for name, value in raw.items()
    }


def _body(raw: Any) -> Any:
    if isinstance(raw, Mapping) and "content" in raw and "contentType" in raw:  # V4
        content = raw["content"]
        if isinstance(content, str) and "json" in str(raw["contentType"]):
            return json.loads(content)
        return content
    return raw


def _states(raw: Mapping[str, Any]) -> tuple[tuple[str, Mapping[str, Any]], ...]:
    found: list[tuple[str, Mapping[str, Any]]] = []
    for state in raw.get("providerStates") or []:
        if isinstance(state, Mapping) and isinstance(state.get("name"), str) and state["name"]:
            params = state.get("params")
            found.append((state["name"], dict(params) if isinstance(params, Mapping) else {}))
    legacy = raw.get("providerState") or raw.get("provider_state")
    if isinstance(legacy, str) and legacy:
        found.append((legacy, {}))
    return tuple(found)


def read_interactions(path: Path) -> Iterator[Interaction]:
    """The HTTP interactions of one pact file, in file order.

    Raises:
        ValueError: The file is not a pact file.
    """
    document = read_pact(path)
    for raw in document.get("interactions") or []:
        if not isinstance(raw, Mapping) or raw.get("type", "Synchronous/HTTP") != (
            "Synchronous/HTTP"
        ):
            continue
        request, response = raw.get("request") or {}, raw.get("response") or {}
        yield Interaction(
            description=str(raw.get("description", "")),
            states=_states(raw),
            method=str(request.get("method", "GET")).upper(),
            path=str(request.get("path", "/")),
            query=_query(request.get("query")),
            headers=_headers(request.get("headers")),
            body=_body(request.get("body")),
            status=int(response.get("status", 200)),
            response_body=_body(response.get("body")),
        )


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"({\w+})", path)
    pattern = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(f"^{pattern}$")


def _query_value(text: str) -> Any:
    # A query value is text on the wire; the operation's model may want a number or a flag.
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, int | float | bool) else text


def match_operation(
    interaction: Interaction, operations: Mapping[str, Operation[Any, Any]]
) -> tuple[Operation[Any, Any], dict[str, Any]] | None:
    """The operation whose method and path template send this interaction's request, and the
    call's inputs (path fields, query fields, body fields, idempotency key); None if none does.

    Of several templates that match, the one with the fewest placeholders wins
    (`/users/lookup` before `/users/{user_id}`).
    """
    candidates = []
    for operation in operations.values():
        if operation.method != interaction.method:
            continue
        found = _template(operation.path).match(interaction.path)
        if found is not None:
            candidates.append((len(operation.path_fields), operation.name, operation, found))
    if not candidates:
        return None
    _, _, operation, found = min(candidates, key=lambda c: (c[0], c[1]))
    inputs: dict[str, Any] = dict(found.groupdict())
    for name in operation.query:
        if name in interaction.query:
            inputs[name] = _query_value(interaction.query[name])
    if isinstance(interaction.body, Mapping):
        inputs.update({k: v for k, v in interaction.body.items() if k in operation.body_fields})
    key = interaction.header("Idempotency-Key")
    if operation.keyed and key is not None:
        inputs["idempotency_key"] = key
    return operation, inputs
