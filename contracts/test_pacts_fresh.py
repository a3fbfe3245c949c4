"""The committed pact files are what the consumer tests write today."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.pactfiles import CONSUMER, PACTS_DIR, PROVIDERS, normalise, regenerate, stale_files


@pytest.fixture(scope="module")
def fresh_pacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    into = tmp_path_factory.mktemp("fresh-pacts")
    process = regenerate(into)
    assert process.returncode == 0, (
        "the consumer tests failed while regenerating pact files:\n" + process.stdout[-3000:]
    )
    return into


def test_committed_pacts_are_up_to_date(fresh_pacts: Path) -> None:
    problems = stale_files(PACTS_DIR, fresh_pacts)
    assert not problems, (
        "\n\n".join(problems)
        + "\n\nRun `.venv/bin/python -m contracts.pactfiles update` and commit contracts/pacts/."
    )


def test_one_v4_pact_per_provider() -> None:
    names = sorted(p.name for p in PACTS_DIR.glob("*.json"))
    assert names == sorted(f"{CONSUMER}-{provider}.json" for provider in PROVIDERS.values())
    for path in PACTS_DIR.glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["metadata"]["pactSpecification"]["version"].startswith("4."), path.name
        assert document["interactions"], f"{path.name} has no interactions"


def test_staleness_check_names_the_file_and_the_change(tmp_path: Path) -> None:
    committed, fresh = tmp_path / "committed", tmp_path / "fresh"
    committed.mkdir()
    fresh.mkdir()
    source = PACTS_DIR / f"{CONSUMER}-users-service.json"
    document = json.loads(source.read_text(encoding="utf-8"))
    (committed / source.name).write_text(json.dumps(document), encoding="utf-8")
    # Volatile metadata and interaction order are not part of the contract.
    document["metadata"]["pactRust"] = {"ffi": "9.9.9", "models": "9.9.9"}
    document["interactions"].reverse()
    (fresh / source.name).write_text(json.dumps(document), encoding="utf-8")
    assert stale_files(committed, fresh) == []

    document["interactions"][0]["response"]["status"] = 299
    (fresh / source.name).write_text(json.dumps(document), encoding="utf-8")
    (problem,) = stale_files(committed, fresh)
    assert problem.startswith(f"contracts/pacts/{source.name} is stale")
    assert '+        "status": 299' in problem

    (fresh / "extra.json").write_text("{}", encoding="utf-8")
    assert any("extra.json is missing" in p for p in stale_files(committed, fresh))


def test_normalise_drops_only_volatile_metadata() -> None:
    document = {
        "metadata": {"pactRust": {"ffi": "1"}, "pactSpecification": {"version": "4.0"}},
        "interactions": [{"description": "b"}, {"description": "a"}],
    }
    assert normalise(document) == {
        "metadata": {"pactSpecification": {"version": "4.0"}},
        "interactions": [{"description": "a"}, {"description": "b"}],
    }
    assert "pactRust" in document["metadata"], "the input is left unchanged"
