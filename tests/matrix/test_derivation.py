"""The matrix is derived: interactions map to operations, rules give each cell its expectation."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from stormproof.chaos.matrix import (
    RULES,
    Interaction,
    Subject,
    build_matrix,
    emit_case,
    match_operation,
    read_interactions,
)
from stormproof.chaos.pact import pact_files_by_provider
from stormproof.chaos.scenario import SCENARIO_POLICY, load_scenario, parse_scenario
from stormproof.chaos.scenario._calls import declared_operations
from stormproof.chaos.services import ConfigError, active_config, demo_config_path, parse_config
from stormproof.clients import PaymentServiceClient, UserServiceClient

DEMO = active_config(None)
RULE = {rule.name: rule for rule in RULES}


@pytest.fixture(scope="module")
def matrix():
    return build_matrix(DEMO)


def _interaction(**fields):
    base = {"description": "x", "states": (), "method": "GET", "path": "/users/usr_1"}
    return Interaction(**{**base, **fields})


def test_the_bundled_services_give_at_least_300_cases_with_unique_names(matrix):
    names = [case.scenario.name for case in matrix.cases]
    assert len(names) >= 300
    assert len(set(names)) == len(names)
    assert {case.service for case in matrix.cases} == {"users", "notifications", "payments"}


def test_every_interaction_is_a_row_or_left_out_with_a_reason(matrix):
    rows = {(case.service, case.interaction.description) for case in matrix.cases}
    left = {(e.service, e.interaction) for e in matrix.excluded if e.fault is None}
    assert all(e.reason for e in matrix.excluded)
    for service in DEMO.services.values():
        for path in pact_files_by_provider(DEMO.pacts)[service.pact_provider]:
            for interaction in read_interactions(path):
                key = (service.name, interaction.description)
                assert (key in rows) != (key in left), key


def test_a_cell_left_out_is_said_and_never_a_case(matrix):
    cells = {(c.service, c.interaction.description, c.fault.name) for c in matrix.cases}
    for left in matrix.excluded:
        if left.fault is not None:
            assert (left.service, left.interaction, left.fault) not in cells
    mismatch = [e for e in matrix.excluded if e.fault == "schema-mismatch"]
    assert mismatch
    assert all("error answer" in e.reason for e in mismatch)


def test_the_literal_path_wins_over_a_placeholder_and_query_values_get_their_type():
    operations = declared_operations(UserServiceClient)
    found = match_operation(
        _interaction(path="/users/lookup", query={"email": "ada@example.com"}), operations
    )
    assert found is not None
    assert (found[0].name, found[1]) == ("find_user_by_email", {"email": "ada@example.com"})
    listed = match_operation(_interaction(path="/users", query={"page": "2"}), operations)
    assert listed is not None
    assert listed[1] == {"page": 2}
    assert match_operation(_interaction(method="DELETE"), operations) is None


def test_a_v4_header_list_is_the_idempotency_key(tmp_path):
    pact = {
        "provider": {"name": "payments-service"},
        "interactions": [
            {
                "type": "Synchronous/HTTP",
                "description": "charge",
                "request": {
                    "method": "POST",
                    "path": "/payments",
                    "headers": {"Idempotency-Key": ["pay-key-9"]},
                    "body": {
                        "content": {"amount": 10, "currency": "EUR", "user_id": "usr_1",
                                    "payment_method_token": "tok_visa"},
                        "contentType": "application/json",
                    },
                },
                "response": {"status": 201},
            }
        ],
    }  # fmt: skip
    path = tmp_path / "pact.json"
    path.write_text(json.dumps(pact))
    (interaction,) = read_interactions(path)
    found = match_operation(interaction, declared_operations(PaymentServiceClient))
    assert found is not None
    assert found[1]["idempotency_key"] == "pay-key-9"
    assert found[1]["amount"] == 10


def _subject(client, **fields) -> Subject:
    interaction = _interaction(**fields)
    found = match_operation(interaction, declared_operations(client))
    assert found is not None
    return Subject(interaction, found[0], SCENARIO_POLICY)


KEYED_CHARGE = {"method": "POST", "path": "/payments", "status": 201,
                "headers": {"Idempotency-Key": "k"}}  # fmt: skip
UNSAFE_CREATE = {"method": "POST", "path": "/users", "status": 201}
SAFE_READ = {"method": "GET", "path": "/users/usr_1", "status": 200}


@pytest.mark.parametrize(
    ("client", "fields", "fault", "outcome", "attempts"),
    [
        (UserServiceClient, SAFE_READ, "503-after-handler", "ok", 2),
        (UserServiceClient, UNSAFE_CREATE, "503-after-handler", "ServiceUnavailableError", 1),
        (PaymentServiceClient, KEYED_CHARGE, "503-after-handler", "ok", 2),
        (UserServiceClient, UNSAFE_CREATE, "503-before-handler", "ServiceUnavailableError", 1),
        (UserServiceClient, UNSAFE_CREATE, "429-within-deadline", "ok", 2),
        (UserServiceClient, UNSAFE_CREATE, "outage", "ServiceUnavailableError", 3),
        (UserServiceClient, UNSAFE_CREATE, "answer-lost", "ServiceUnavailableError", 1),
        (UserServiceClient, SAFE_READ, "answer-lost", "ServiceUnavailableError", 3),
        (PaymentServiceClient, KEYED_CHARGE, "answer-lost",
         "ServiceUnavailableError | PaymentOutcomeUnknownError", 3),
        (UserServiceClient, SAFE_READ, "429-beyond-deadline", "RateLimitedError", 1),
        (UserServiceClient, SAFE_READ, "blackhole-past-deadline", "DeadlineExceededError", 1),
        (UserServiceClient, SAFE_READ, "schema-mismatch", "ResponseValidationError", 1),
    ],
)  # fmt: skip
def test_each_rule_derives_outcome_and_attempts(client, fields, fault, outcome, attempts):
    plan = RULE[fault].derive(_subject(client, **fields))
    assert not isinstance(plan, str)
    assert plan.expect["outcome"] == outcome
    assert plan.expect["attempts"] == attempts


def test_a_keyed_error_answer_after_an_ambiguous_attempt_is_outcome_unknown():
    refund_404 = {"method": "POST", "path": "/payments/pay_404/refunds", "status": 404,
                  "headers": {"Idempotency-Key": "k"}}  # fmt: skip
    plan = RULE["truncated-answer"].derive(_subject(PaymentServiceClient, **refund_404))
    assert not isinstance(plan, str)
    assert plan.expect["outcome"] == "PaymentOutcomeUnknownError"
    mismatch = {**refund_404, "status": 422,
                "response_body": {"error": {"type": "idempotency_mismatch"}}}  # fmt: skip
    plan = RULE["503-before-handler"].derive(_subject(PaymentServiceClient, **mismatch))
    assert not isinstance(plan, str)
    assert plan.expect["outcome"] == "ClientRequestError"  # an answer about the key settles it


def test_latency_above_counts_the_attempts_that_fit_in_the_deadline():
    plan = RULE["latency-above-read-timeout"].derive(_subject(UserServiceClient, **SAFE_READ))
    assert not isinstance(plan, str)
    assert plan.expect["attempts"] == {"min": 3, "max": 3}  # 3 x (0.4 + 0.05) + backoff < 1.5
    tight = replace(SCENARIO_POLICY, deadline_s=1.0)
    subject = replace(_subject(UserServiceClient, **SAFE_READ), policy=tight)
    plan = RULE["latency-above-read-timeout"].derive(subject)
    assert not isinstance(plan, str)
    assert plan.expect["attempts"] == {"min": 2, "max": 3}


def test_a_retry_after_longer_than_the_cap_is_not_applicable():
    capped = replace(SCENARIO_POLICY, retry=replace(SCENARIO_POLICY.retry, max_retry_after_s=0.5))
    subject = replace(_subject(UserServiceClient, **SAFE_READ), policy=capped)
    assert "at most 0.5 s" in str(RULE["429-within-deadline"].derive(subject))


def test_a_keyed_case_bounds_new_effects_and_an_unsafe_one_is_not_called_again(matrix):
    def case(description, fault):
        cases = [c for c in matrix.cases if c.interaction.description == description]
        (found,) = [c for c in cases if c.fault.name == fault]
        return found

    keyed = case("a request to charge 10.00 EUR", "503-after-handler").scenario
    assert keyed.expect.side_effects["charges"].max_new == 1
    assert keyed.expect.side_effects["charges"].max_per_key == 1
    unsafe = case("a request to create a user", "503-after-handler").scenario
    assert [phase.name for phase in unsafe.phases] == ["one 503 after the provider acted"]
    before = case("a request to create a user", "503-before-handler").scenario
    assert [phase.name for phase in before.phases][-1] == "recovered"


def test_an_emitted_case_loads_as_the_same_scenario(matrix, tmp_path):
    for case in matrix.cases[:: len(matrix.cases) // 7]:
        path = emit_case(case, tmp_path)
        assert path.read_text().startswith("# yaml-language-server: $schema=")
        assert load_scenario(path, config=DEMO) == case.scenario


def test_every_case_passes_the_checks_of_a_hand_written_file(matrix):
    for case in matrix.cases:
        assert parse_scenario(dict(case.document), config=DEMO) == case.scenario


def _demo_with(overrides):

    document = tomllib.loads(demo_config_path().read_text())
    document["matrix"] = {"overrides": overrides}
    return parse_config(document, demo_config_path())


def test_an_override_replaces_a_derived_expectation_and_says_why():
    override = {
        "service": "users",
        "interaction": "a request to create a user",
        "fault": "503-after-handler",
        "expect": {"outcome": "ok", "attempts": 2},
        "reason": "our gateway replays POST /users",
    }
    matrix = build_matrix(_demo_with([override]), services=["users"])
    (case,) = [
        c for c in matrix.cases if c.scenario.name.endswith("create-a-user.503-after-handler")
    ]
    expect = case.scenario.phases[0].calls[0].expect
    assert (expect.outcome, expect.attempts.min, expect.attempts.max) == (["ok"], 2, 2)
    assert "our gateway replays POST /users" in case.scenario.description


def test_an_override_that_names_no_case_is_an_error():
    override = {"service": "users", "interaction": "a request to create a user",
                "fault": "503-after", "expect": {"outcome": "ok"}, "reason": "typo"}  # fmt: skip
    with pytest.raises(ConfigError, match=r"'503-after' of users names no matrix case"):
        build_matrix(_demo_with([override]), services=["users"])


def test_the_override_in_docs_matrix_md_applies():

    page = (Path(__file__).resolve().parents[2] / "docs" / "matrix.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", page, re.S)
    (override,) = tomllib.loads(block)["matrix"]["overrides"]
    matrix = build_matrix(_demo_with([override]), services=[override["service"]])
    (case,) = [c for c in matrix.cases if c.interaction.description == override["interaction"]
               and c.fault.name == override["fault"]]  # fmt: skip
    assert case.scenario.phases[0].calls[0].expect.outcome == [override["expect"]["outcome"]]
    assert override["reason"] in case.scenario.description
