"""The real Pact verifier drives `POST /_test/states` (URL state handler, setup and teardown)."""

from __future__ import annotations

import json

import requests
from pact import Verifier

from stormproof import providers


def _interaction(description, states, path, status, body=None):
    response = {"status": status}
    if body is not None:
        response["headers"] = {"Content-Type": ["application/json"]}
        response["body"] = {"content": body, "contentType": "application/json", "encoded": False}
    return {
        "type": "Synchronous/HTTP",
        "description": description,
        "providerStates": states,
        "request": {"method": "GET", "path": path},
        "response": response,
    }


def test_pact_verifier_sets_states_through_the_state_endpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("PACT_DO_NOT_TRACK", "true")
    pact = {
        "consumer": {"name": "state-check"},
        "provider": {"name": "payments"},
        "interactions": [
            _interaction(
                "an existing payment",
                [
                    {
                        "name": "a payment with id {id} exists",
                        "params": {"id": "pay_7", "amount": 99},
                    }
                ],
                "/payments/pay_7",
                200,
                {"id": "pay_7", "amount": 99, "status": "captured"},
            ),
            _interaction(
                "a rate-limited call",
                [{"name": "the service is rate limiting"}],
                "/payments/pay_7",
                429,
            ),
            _interaction(
                "a payment left over from no earlier interaction",
                [{"name": "the service is healthy"}],
                "/payments/pay_7",
                404,
            ),
        ],
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    (tmp_path / "state-check-payments.json").write_text(json.dumps(pact))
    states = [s["name"] for i in pact["interactions"] for s in i["providerStates"]]
    assert providers.missing_states("payments", states) == []
    with providers.serve("payments") as server:
        verifier = (
            Verifier("payments", host="127.0.0.1")
            .add_transport(url=server.url)
            .add_source(tmp_path)
            .state_handler(f"{server.url}/_test/states", teardown=True, body=True)
        )
        verifier.verify()
        results = verifier.results["interactionResults"]
        assert [r["result"] for r in results] == ["OK", "OK", "OK"]
        # Teardown after the last interaction left the provider empty.
        assert requests.get(f"{server.url}/_test/requests", timeout=5).json()["count"] == 0
