"""Every request a client accepts, the reference provider accepts too.

A client may check more than its provider (and fail fast), never less: a looser client limit
would send requests that can only come back as 422. Pact pins shapes, not these bounds, so
the request models are compared field by field through their JSON schemas.
"""

from typing import Any

import pytest
from pydantic import BaseModel

from stormproof.clients import _notifications as client_notifications
from stormproof.clients import _payments as client_payments
from stormproof.clients import _users as client_users
from stormproof.providers import _notifications as provider_notifications
from stormproof.providers import _payment_store as provider_payments
from stormproof.providers import _users as provider_users

PAIRS = [
    (client_notifications._Send, provider_notifications.NotificationCreate),
    (client_payments._CreatePayment, provider_payments.PaymentCreate),
    (client_payments._Refund, provider_payments.RefundCreate),
    (client_users._CreateUser, provider_users.UserCreate),
    (client_users._UpdateUser, provider_users.UserUpdate),
]
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum")
LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum")


def body_fields(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """Each field's constraints, with references and optional (``null``) branches resolved."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
        branches = [resolve(b) for b in node.get("anyOf", []) if b.get("type") != "null"]
        return branches[0] if len(branches) == 1 else node

    return {name: resolve(node) for name, node in schema["properties"].items()}


def looser_bounds(client: dict[str, Any], provider: dict[str, Any]) -> list[str]:
    problems = []
    for key in UPPER_BOUNDS:
        if key in provider and client.get(key, float("inf")) > provider[key]:
            problems.append(f"{key} {client.get(key)} > {provider[key]}")
    for key in LOWER_BOUNDS:
        if key in provider and client.get(key, float("-inf")) < provider[key]:
            problems.append(f"{key} {client.get(key)} < {provider[key]}")
    for key in ("pattern", "enum", "type"):
        if key in provider and key not in client:
            problems.append(f"no {key} (provider: {provider[key]!r})")
    if "enum" in provider and not set(client.get("enum", [])) <= set(provider["enum"]):
        problems.append(f"enum {client['enum']} not within {provider['enum']}")
    return problems


@pytest.mark.parametrize(("client", "provider"), PAIRS, ids=[c.__name__ for c, _ in PAIRS])
def test_client_limits_are_never_looser_than_the_providers(client, provider):
    client_fields, provider_fields = body_fields(client), body_fields(provider)
    problems = {
        name: issues
        for name, constraints in provider_fields.items()
        if name in client_fields and (issues := looser_bounds(client_fields[name], constraints))
    }
    assert problems == {}
    assert set(provider_fields) <= set(client_fields), "a body field no client can send"


def test_the_comparison_catches_a_looser_client_limit():
    looser = {"maxLength": 1000, "type": "string"}
    assert looser_bounds(looser, {"maxLength": 998, "type": "string"}) == ["maxLength 1000 > 998"]
    assert looser_bounds({"type": "integer"}, {"type": "integer", "minimum": 1}) == [
        "minimum None < 1"
    ]
