"""Every reference provider honours the committed pacts; verification can also fail."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from contracts.pactfiles import PACTS_DIR, PROVIDERS
from stormproof import providers
from stormproof.chaos.pact import pact_files_by_provider, verify_provider


def _descriptions(files: list[Path]) -> set[str]:
    found: set[str] = set()
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        found.update(item["description"] for item in document["interactions"])
    return found


@pytest.mark.parametrize("provider", sorted(PROVIDERS.values()))
def test_provider_honours_its_pacts(provider: str) -> None:
    files = pact_files_by_provider(PACTS_DIR)[provider]
    result = verify_provider(provider, files)
    assert result.passed, result.summary() + "\n" + result.output
    expected = _descriptions(files)
    assert len(expected) >= 9
    # Zero interactions would "pass" in pact itself: every one must have been replayed.
    assert {item.description for item in result.interactions} == expected
    assert all(item.passed for item in result.interactions)
    assert result.base_url is not None
    assert result.base_url.startswith("http://127.0.0.1:")
    assert "Verifying a pact between stormproof-clients and " + provider in result.output


def test_an_already_running_provider_can_be_verified() -> None:
    files = pact_files_by_provider(PACTS_DIR)["notifications-service"]
    with providers.serve("notifications", test_mode=True) as server:
        result = verify_provider("notifications-service", files, base_url=server.url)
    assert result.passed, result.summary()
    assert result.base_url == server.url


def _pact_with(tmp_path: Path, provider: str, interactions: list[dict[str, object]]) -> Path:
    path = tmp_path / f"someone-{provider}.json"
    document = {
        "consumer": {"name": "someone"},
        "provider": {"name": provider},
        "interactions": interactions,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _get_healthz(states: list[str]) -> dict[str, object]:
    return {
        "type": "Synchronous/HTTP",
        "description": "a health check",
        "providerStates": [{"name": state} for state in states],
        "request": {"method": "GET", "path": "/healthz"},
        "response": {"status": 200},
    }


def test_missing_state_handlers_fail_fast_naming_the_states(tmp_path: Path) -> None:
    states = ["a unicorn with id u_1 exists", "a user with id usr_9 exists", "the moon is full"]
    path = _pact_with(tmp_path, "users-service", [_get_healthz(states)])
    started = time.monotonic()
    result = verify_provider("users-service", [path])
    elapsed = time.monotonic() - started
    assert not result.passed
    (problem,) = result.problems
    assert "'a unicorn with id u_1 exists'" in problem
    assert "'the moon is full'" in problem
    assert "usr_9" not in problem, "a state with a handler is not reported"
    assert result.interactions == ()
    # pact's verifier would retry each unknown state for about two minutes
    assert elapsed < 30


def test_zero_interactions_is_a_failure(tmp_path: Path) -> None:
    path = _pact_with(tmp_path, "users-service", [])
    result = verify_provider("users-service", [path])
    assert not result.passed
    assert any("no interaction was verified" in p for p in result.problems)


def test_pacts_for_another_provider_are_not_verified(tmp_path: Path) -> None:
    path = _pact_with(tmp_path, "payments-service", [_get_healthz([])])
    result = verify_provider("users-service", [path])
    assert not result.passed
    assert "no pact file is for provider 'users-service'" in result.problems[0]


def test_a_provider_without_test_mode_fails_saying_why() -> None:
    files = pact_files_by_provider(PACTS_DIR)["users-service"]
    with providers.serve("users", test_mode=False) as server:
        result = verify_provider("users-service", files, base_url=server.url)
    assert not result.passed
    assert f"could not be set up for {server.url} through the provider's adapter" in (
        result.summary()
    )
    assert "/_test/states answered 404" in result.summary()
    assert "is the provider running in test mode?" in result.summary()
