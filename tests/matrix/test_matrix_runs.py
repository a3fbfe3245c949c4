"""`stormproof matrix` end to end: real providers, the real proxy, xdist workers.

The weakening test is the proof that the matrix can fail, and fails only where it should: each
weakened client is run over the same slice of interactions, and the set of failing cells must be
exactly the one its rule names (written here, independently of the rules module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stormproof.chaos.services import demo_config_path, load_config
from tests.chaos._separate_proxy import separate_proxy

STORMPROOF = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()"]

# One row of each kind: a keyed POST with an outcome-unknown error (payments), a keyed POST
# without one (notifications), an unsafe POST without a key (users), a safe GET (users).
CHARGE = "a request to charge 10.00 EUR"
SEND = "a request to send an email notification"
CREATE = "a request to create a user"
READ = "a request for user usr_1"
SLICE = ",".join(
    f"{name}." for name in (
        "payments.a-request-to-charge-10-00-eur",
        "notifications.a-request-to-send-an-email-notification",
        "users.a-request-to-create-a-user",
        "users.a-request-for-user-usr-1",
    )
)  # fmt: skip
KEYED, SAFE = {CHARGE, SEND}, {CHARGE, SEND, READ}
COVERAGE = "stormproof.matrix.coverage"  # the Allure summary test that carries the grid
ROWS = (CHARGE, SEND, CREATE, READ)

RETRIED_WHEN_SAFE = {
    "reset-before-send", "answer-lost", "latency-above-read-timeout", "truncated-answer",
    "503-before-handler", "503-after-handler",
}  # fmt: skip
ALWAYS_RETRIED = {"outage", "429-within-deadline"}
PROCESSED_THEN_RETRIED = {
    "answer-lost", "latency-above-read-timeout", "truncated-answer", "503-after-handler"
}  # fmt: skip


def _cells(rows, columns):
    return {(row, column) for row in rows for column in columns}


SHOULD_FAIL = {
    # Nothing is retried: every cell that needs a second attempt.
    "no-retries": _cells(SAFE, RETRIED_WHEN_SAFE | ALWAYS_RETRIED)
    | _cells({CREATE}, ALWAYS_RETRIED),
    # Only the outage column drives the breaker open.
    "no-breaker": _cells(ROWS, {"outage"}),
    # Only the read timeout bounds a call: a black hole and a slow drip run past the deadline.
    "no-deadline": _cells(ROWS, {"blackhole-past-deadline", "slow-drip-past-deadline"}),
    # The unsafe POST is retried wherever a safe call would be.
    "retry-unsafe": _cells({CREATE}, RETRIED_WHEN_SAFE),
    # A new key per retry doubles an effect wherever a retry follows a handled request.
    "new-key-per-retry": _cells(KEYED, PROCESSED_THEN_RETRIED),
}


def _matrix(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    results = tmp_path / "results"
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true", "COLUMNS": "200"}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [*STORMPROOF, "matrix", "--no-html", "--output", str(results), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    statuses = {}
    for path in results.glob("*-result.json"):
        data = json.loads(path.read_text())
        if data["fullName"] == COVERAGE:
            statuses[COVERAGE] = data["status"]
            continue
        interaction, _, fault = data["name"].rpartition(" @ ")
        statuses[(interaction, fault)] = data["status"]
    return done, statuses


# Serially for one weakening, with workers for the others: the same sets either way.
WORKERS = {"no-retries": "1"}


@pytest.mark.slow
@pytest.mark.parametrize("weakening", sorted(SHOULD_FAIL))
def test_a_weakened_client_fails_exactly_the_cells_its_rule_names(tmp_path, weakening):
    workers = WORKERS.get(weakening, "3")
    done, statuses = _matrix(
        tmp_path, "--select", SLICE, "--workers", workers, "--weaken", weakening
    )
    output = done.stdout + done.stderr
    assert statuses.pop(COVERAGE) == "failed", output[-4000:]
    failing = {cell for cell, status in statuses.items() if status != "passed"}
    assert {row for row, _ in statuses} == set(ROWS), output[-4000:]
    assert len(statuses) == 4 * 13, output[-4000:]  # each row has a 2xx contract: all columns
    assert failing == SHOULD_FAIL[weakening], output[-6000:]
    # Every other cell passed, and the grid says so.
    assert set(statuses.values()) == {"passed", "failed"}
    passed = len(statuses) - len(failing)
    assert "fault matrix (pact interactions x fault classes)" in output
    assert f"{len(statuses)} matrix cases: {len(failing)} failed, {passed} passed" in output
    assert done.returncode == 1
    assert "stormproof: error: the matrix failed" in done.stderr


def test_emit_writes_files_that_run_as_scenarios(tmp_path):
    folder = tmp_path / "emitted"
    done, _ = _matrix(
        tmp_path, "--select", "users.a-request-for-user-usr-1.503-after", "--emit", str(folder)
    )
    assert done.returncode == 0, done.stderr
    (path,) = folder.glob("*.yaml")
    env = {**os.environ, "PACT_DO_NOT_TRACK": "true"}
    env.pop("TOXIPROXY_URL", None)
    ran = subprocess.run(
        [*STORMPROOF, "run", "--scenarios", str(folder), "--no-contracts", "--no-html",
         "--output", str(tmp_path / "run")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr
    assert f"{path.stem} PASSED" in ran.stdout


def test_a_selection_that_matches_no_case_is_an_error(tmp_path):
    done, statuses = _matrix(tmp_path, "--select", "nosuchcase")
    assert done.returncode == 2
    assert "stormproof: error: --select 'nosuchcase' matches none of the" in done.stderr
    assert statuses == {}


def test_a_configured_toxiproxy_runs_the_cases_in_one_worker(tmp_path):
    demo = demo_config_path().read_text()
    services = demo[demo.index("[services.") :]
    pacts = load_config(demo_config_path()).pacts
    with separate_proxy() as url:
        (tmp_path / "stormproof.toml").write_text(
            f"pacts = {str(pacts)!r}\nbackend = {url!r}\n\n{services}"
        )
        done, statuses = _matrix(
            tmp_path, "--select", "users.a-request-for-user-usr-1.", "--workers", "2"
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert f"the cases run in one worker: workers would share the Toxiproxy at {url}" in done.stderr
    assert "13 matrix cases: 13 passed" in done.stdout
    assert len([s for s in statuses.values() if s == "passed"]) == 13 + 1  # with the coverage test
    properties = (tmp_path / "results" / "environment.properties").read_text()
    assert "backend=toxiproxy" in properties
    assert url in properties
