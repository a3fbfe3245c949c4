"""stormproof.chaos.pact without a provider: pact files, report parsing, the environment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import stormproof.chaos.pact
from stormproof.chaos.pact import (
    InteractionResult,
    VerificationResult,
    ensure_do_not_track,
    pact_cli_path,
    pact_files_by_provider,
    provider_states,
    read_pact,
)
from stormproof.chaos.pact._result import parse_verifier_results


def _write(path: Path, provider: str, interactions: list[dict[str, object]]) -> Path:
    document = {"consumer": {"name": "c"}, "provider": {"name": provider}}
    path.write_text(json.dumps({**document, "interactions": interactions}), encoding="utf-8")
    return path


def test_exports_are_complete() -> None:
    # ruff's RUF022 keeps __all__ sorted; every name in it must exist.
    for name in stormproof.chaos.pact.__all__:
        assert getattr(stormproof.chaos.pact, name) is not None


def test_pact_files_grouped_by_provider(tmp_path: Path) -> None:
    _write(tmp_path / "b.json", "users-service", [])
    _write(tmp_path / "a.json", "users-service", [])
    _write(tmp_path / "c.json", "payments-service", [])
    (tmp_path / "notes.txt").write_text("not a pact", encoding="utf-8")
    grouped = pact_files_by_provider(tmp_path)
    assert list(grouped) == ["payments-service", "users-service"]
    assert [p.name for p in grouped["users-service"]] == ["a.json", "b.json"]
    assert pact_files_by_provider(tmp_path / "empty-missing") == {}


def test_a_json_file_that_is_not_a_pact_is_named(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.json: not a pact file"):
        pact_files_by_provider(tmp_path)
    (tmp_path / "x.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable JSON pact file"):
        read_pact(tmp_path / "x.json")


def test_provider_states_in_order_without_duplicates() -> None:
    documents: list[dict[str, Any]] = [
        {
            "interactions": [
                {"providerStates": [{"name": "b"}, {"name": "a"}]},
                {"providerStates": [{"name": "a"}, {"name": ""}]},
                {"providerState": "legacy v2 state"},
                {"description": "no state"},
            ]
        },
        {"interactions": [{"providerStates": [{"name": "c", "params": {"x": 1}}]}]},
    ]
    assert provider_states(documents) == ["b", "a", "legacy v2 state", "c"]


RAW = {
    "result": False,
    "interactionResults": [
        {
            "consumer": "c",
            "description": "ok one",
            "providerStates": ["s"],
            "pending": False,
            "result": "OK",
        },
        {
            "consumer": "c",
            "description": "broken one",
            "providerStates": [],
            "pending": False,
            "result": "Error",
            "mismatch": {
                "type": "mismatches",
                "mismatches": [
                    {
                        "type": "BodyMismatch",
                        "path": "$.amount",
                        "mismatch": "Expected 10 to be equal to 11",
                        "expected": "10",
                        "actual": "11",
                    },
                    {"type": "HeaderMismatch", "key": "Retry-After", "mismatch": "missing"},
                    {"type": "StatusMismatch", "expected": 200, "actual": 500},
                ],
            },
        },
        {
            "consumer": "c",
            "description": "pending one",
            "pending": True,
            "result": "Error",
            "mismatch": {"type": "error", "message": "connection refused"},
        },
    ],
}


def test_verifier_report_is_parsed_per_interaction() -> None:
    ok, broken, pending = parse_verifier_results(RAW)
    assert ok == InteractionResult("ok one", "c", ("s",), True, False, ())
    assert broken.mismatches == (
        "body $.amount: Expected 10 to be equal to 11 (expected 10, actual 11)",
        "header Retry-After: missing",
        "status: expected 200, got 500",
    )
    assert pending.pending
    assert pending.mismatches == ("error: connection refused",)


def test_summary_names_failed_interactions_but_not_pending_ones() -> None:
    result = VerificationResult(
        provider="p",
        passed=False,
        interactions=parse_verifier_results(RAW),
        problems=("something else",),
    )
    assert [i.description for i in result.failures] == ["broken one"]
    lines = result.summary().splitlines()
    assert lines[0] == "p: FAILED, 1 of 3 interactions verified"
    assert lines[1] == "  ! something else"
    assert lines[2] == "  - 'broken one': body $.amount: Expected 10 to be equal to 11 " + (
        "(expected 10, actual 11)"
    )
    assert not any("pending one" in line for line in lines)


def test_pact_cli_is_found_and_runs() -> None:
    path = pact_cli_path()
    assert path.name == "pact"
    assert os.access(path, os.X_OK)


def test_pact_cli_missing_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sysconfig.get_path", lambda _name: str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="pip install pact-python-cli"):
        pact_cli_path()


def test_do_not_track_is_forced_to_the_value_pact_honours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PACT_DO_NOT_TRACK", "1")
    ensure_do_not_track()
    assert os.environ["PACT_DO_NOT_TRACK"] == "true"
