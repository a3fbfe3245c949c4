"""Every field of a scenario file is checked against what it configures, from the same source.

Each case was a vacuous green or a mid-run surprise before: now it is a load error that names the
file, the line, the field and the problem, with every problem of the file at once.
"""

import dataclasses
import textwrap
from pathlib import Path

import pytest

from stormproof import clients
from stormproof.chaos.scenario import (
    SCENARIO_POLICY,
    HttpFault,
    ScenarioFileError,
    ToxicFault,
    load_scenario,
    parse_scenario,
)
from stormproof.chaos.scenario._calls import error_names
from stormproof.chaos.toxiproxy._api_error import ApiError
from stormproof.chaos.toxiproxy._toxics import KINDS, parse_attributes
from stormproof.clients import ResiliencePolicy, ServiceError
from stormproof.providers import FaultRuleSpec

HEAD = """\
name: checked
service: users
description: d
"""


def _load(tmp_path: Path, body: str) -> ScenarioFileError:
    path = tmp_path / "scenario.yaml"
    path.write_text(HEAD + textwrap.dedent(body))
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    error = caught.value
    assert str(path) in str(error)
    return error


def _phase(fault: str = "", call: str = "{op: get_user, with: {user_id: usr_1}}") -> str:
    faults = f"\n    faults: [{fault}]" if fault else ""
    return f"phases:\n  - name: p{faults}\n    calls: [{call}]\n"


def test_a_misspelt_toxic_attribute_is_refused_with_a_suggestion(tmp_path):
    error = _load(tmp_path, _phase("{toxic: latency, attributes: {latncy: 500}}"))
    [problem] = error.problems
    assert problem.startswith("line 6: phases[0].faults[0].attributes:")
    assert "unknown attribute 'latncy' for a latency toxic (did you mean 'latency'?)" in problem


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("{toxic: lag}", "unknown toxic type 'lag'"),
        ("{toxic: latency, attributes: {latency: 0.5}}", "must be an integer, got 0.5"),
        ("{toxic: latency, attributes: {latency: -1}}", "attribute latency must be at least 0"),
        ("{toxic: slicer, attributes: {average_size: 0}}", "average_size"),
        ("{toxic: latency, toxicity: 2}", "less than or equal to 1"),
    ],
)
def test_toxic_values_are_checked_by_the_proxys_own_registry(tmp_path, fault, words):
    error = _load(tmp_path, _phase(fault))
    assert any(words in problem for problem in error.problems), error.problems


def test_every_toxic_type_of_the_registry_loads_exactly_when_the_proxy_accepts_it():
    for name, kind in KINDS.items():
        try:
            parse_attributes(kind, {})
        except ApiError as refused:
            with pytest.raises(ValueError, match=refused.message.split(":")[0]):
                ToxicFault(toxic=name)
        else:
            assert ToxicFault(toxic=name).effective_attributes == kind.defaults()


def test_an_http_fault_is_the_providers_fault_rule_with_its_defaults():
    scenario = parse_scenario(
        {
            "name": "slow",
            "service": "users",
            "description": "d",
            "phases": [{"name": "p", "faults": [{"http": {"mode": "slow"}}]}],
        }
    )
    fault = scenario.phases[0].faults[0]
    assert isinstance(fault, HttpFault)
    assert type(fault.http) is FaultRuleSpec
    # One model, one set of defaults: "slow" is as slow as the provider makes it.
    assert fault.http.delay_ms == FaultRuleSpec.model_fields["delay_ms"].default == 1000


def test_an_http_fault_path_without_its_slash_is_a_load_error(tmp_path):
    error = _load(tmp_path, _phase("{http: {status: 503, path: users}}"))
    assert any("path: Value error, must start with '/'" in p or "must start with '/'" in p
               for p in error.problems), error.problems  # fmt: skip


def test_an_unknown_operation_is_a_load_error_with_the_known_ones(tmp_path):
    error = _load(tmp_path, _phase(call="{op: get_usr, with: {user_id: usr_1}}"))
    [problem] = error.problems
    assert "line 6: phases[0].calls[0].op: unknown operation 'get_usr' of UserServiceClient" in (
        problem
    )
    assert "(did you mean 'get_user'?)" in problem
    assert "known: create_user, find_user_by_email, get_user, iter_users, list_users" in problem


def test_a_misspelt_outcome_is_a_load_error(tmp_path):
    call = "{op: get_user, with: {user_id: usr_1}, expect: {outcome: ok | ReadTimeoutEror}}"
    error = _load(tmp_path, _phase(call=call))
    [problem] = error.problems
    assert "unknown outcome 'ReadTimeoutEror' (did you mean 'ReadTimeoutError'?)" in problem


def test_an_outcome_unknown_error_of_another_service_is_a_load_error(tmp_path):
    call = "{op: get_user, with: {user_id: usr_1}, expect: {outcome: PaymentOutcomeUnknownError}}"
    error = _load(tmp_path, _phase(call=call))
    [problem] = error.problems
    assert "UserServiceClient never ends in PaymentOutcomeUnknownError" in problem
    assert "PaymentOutcomeUnknownError" in error_names(clients.PaymentServiceClient)
    assert "PaymentOutcomeUnknownError" not in error_names(clients.UserServiceClient)
    assert "ReadTimeoutError" in error_names(clients.UserServiceClient)


def test_outcomes_are_the_client_error_classes_a_teams_own_included():
    class OwnError(clients.OutcomeUnknownError):
        pass

    names = error_names()
    assert names[0] == "ok"
    exported = {
        name
        for name in clients.__all__
        if isinstance(getattr(clients, name), type)
        and issubclass(getattr(clients, name), ServiceError)
    }
    assert exported <= set(names)
    assert "OwnError" in names
    assert "RequestModel" not in names


def test_call_arguments_are_checked_against_the_operation(tmp_path):
    call = "{op: get_user, with: {usr_id: usr_1}}"
    error = _load(tmp_path, _phase(call=call))
    assert any("get_user has no argument 'usr_id' (did you mean 'user_id'?)" in p
               for p in error.problems), error.problems  # fmt: skip
    assert any("get_user needs the argument(s) user_id" in p for p in error.problems)


def test_a_literal_argument_is_checked_against_the_request_model(tmp_path):
    call = "{op: create_user, with: {email: not-an-email, name: Ada}}"
    error = _load(tmp_path, _phase(call=call))
    assert any("phases[0].calls[0].with.email: create_user:" in p for p in error.problems), (
        error.problems
    )


def test_a_reference_to_no_saved_call_is_a_load_error(tmp_path):
    call = "{op: get_user, with: {user_id: '${usr.id}'}}"
    error = _load(tmp_path, _phase(call=call))
    [problem] = error.problems
    assert "${usr} names no earlier call's save_as" in problem


def test_references_to_earlier_saves_and_builtins_load():
    scenario = parse_scenario(
        {
            "name": "refs",
            "service": "users",
            "description": "d",
            "phases": [
                {
                    "name": "p",
                    "calls": [
                        {"op": "create_user", "save_as": "made",
                         "with": {"email": "a${unique}@example.com", "name": "A"}},
                        {"op": "get_user", "with": {"user_id": "${made.id}"}},
                    ],
                }
            ],
        }
    )  # fmt: skip
    assert len(scenario.phases[0].calls) == 2


def test_the_profile_is_the_clients_resilience_policy(tmp_path):
    error = _load(tmp_path, "profile: {deadline_s: .inf}\n" + _phase())
    [problem] = error.problems
    assert problem.startswith("line 4: profile.deadline_s:")
    assert "finite number" in problem
    scenario = parse_scenario(
        {
            "name": "p",
            "service": "users",
            "description": "d",
            "profile": {"deadline_s": 3.0, "retry": {"max_attempts": 1}},
            "phases": [{"name": "p"}],
        }
    )
    assert type(scenario.profile) is ResiliencePolicy
    assert scenario.profile.deadline_s == 3.0
    assert scenario.profile.retry.max_attempts == 1
    # What the file does not say comes from the scenario defaults.
    assert scenario.profile.retry.max_backoff_s == SCENARIO_POLICY.retry.max_backoff_s
    assert scenario.profile.breaker == SCENARIO_POLICY.breaker


def test_an_old_flat_profile_field_points_to_its_place_in_the_policy(tmp_path):
    error = _load(tmp_path, "profile: {max_attempts: 1}\n" + _phase())
    [problem] = error.problems
    assert "profile.max_attempts: unknown field (did you mean 'retry.max_attempts'?)" in problem


def test_a_misspelt_breaker_state_is_a_load_error(tmp_path):
    body = _phase() + "    expect: {breaker_path: [CLOSED, OPNE]}\n"
    error = _load(tmp_path, body)
    [problem] = error.problems
    assert "unknown breaker state 'OPNE' (did you mean 'OPEN'?)" in problem


def test_every_problem_of_a_file_comes_at_once_each_with_its_line(tmp_path):
    body = """\
        profile: {deadline_s: .inf}
        phases:
          - name: p
            faults:
              - {toxic: latency, attributes: {latncy: 500}}
              - {http: {mode: slow, path: users}}
            calls:
              - op: get_usr
                with: {user_id: usr_1}
                expect: {outcome: ReadTimeoutEror}
        """
    error = _load(tmp_path, body)
    lines = [int(p.split(":")[0].removeprefix("line ")) for p in error.problems]
    assert lines == [4, 8, 9, 11, 13], error.problems  # in the file's order
    assert "(5 problems)" in str(error)


def test_scenario_files_accept_every_policy_field():
    # Every policy field (nested ones too) is a scenario field with the same name.
    fields = {f.name for f in dataclasses.fields(ResiliencePolicy)}
    document = {
        "name": "all",
        "service": "users",
        "description": "d",
        "profile": dataclasses.asdict(SCENARIO_POLICY),
        "phases": [{"name": "p"}],
    }
    assert set(document["profile"]) == fields
    assert parse_scenario(document).profile == SCENARIO_POLICY
