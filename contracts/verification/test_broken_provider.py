"""A provider that breaks one field of one interaction fails verification, naming both."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from contracts.pactfiles import PACTS_DIR
from stormproof import providers
from stormproof.chaos.pact import pact_files_by_provider, verify_provider

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]

BROKEN_PATH = "/users/usr_1"


class RenameNameField:
    """ASGI middleware: ``GET /users/usr_1`` answers ``full_name`` instead of ``name``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != ("GET", BROKEN_PATH):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = json.loads(b"".join(chunks))
            if start["status"] == 200:
                body["full_name"] = body.pop("name")
            data = json.dumps(body).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, capture)


def test_renamed_field_fails_the_one_interaction_that_uses_it() -> None:
    app = providers.create_app("users", test_mode=True)
    app.add_middleware(RenameNameField)
    files = pact_files_by_provider(PACTS_DIR)["users-service"]
    with providers.serve("users", app=app) as server:
        result = verify_provider("users-service", files, base_url=server.url)

    assert not result.passed
    (failed,) = result.failures
    assert failed.description == "a request for user usr_1"
    assert failed.provider_states == ("a user with id usr_1 exists",)
    assert any("missing the following keys: name" in m for m in failed.mismatches), (
        failed.mismatches
    )
    assert len(result.interactions) > 1
    assert all(item.passed for item in result.interactions if item is not failed)
    summary = result.summary()
    assert "users-service: FAILED" in summary
    assert "'a request for user usr_1': body $: Actual map is missing the following keys: name" in (
        summary
    )
    assert "full_name" in summary
