"""The scenario model and loader: shipped files are valid, bad files say file, field and problem."""

from pathlib import Path

import pytest

from stormproof.chaos.scenario import (
    Bounds,
    HttpFault,
    ProxyFault,
    ScenarioFileError,
    ToxicFault,
    default_scenario_dir,
    load_scenario,
    load_scenarios,
)
from stormproof.chaos.scenario._calls import client_operations
from stormproof.chaos.services import active_config

SHIPPED = load_scenarios(default_scenario_dir())


def test_the_shipped_matrix_covers_every_service_and_fault():
    assert len(SHIPPED) >= 30
    for service in ("users", "notifications", "payments"):
        kinds = {k for s in SHIPPED if s.service == service for k in s.fault_kinds}
        assert {
            "latency",
            "reset_peer",
            "outage",
            "timeout",
            "slicer",
            "http_503",
            "http_429",
        } <= kinds
        assert any("breaker" in s.tags for s in SHIPPED if s.service == service)
    assert any(k == "limit_data" for s in SHIPPED for k in s.fault_kinds)


@pytest.mark.parametrize("scenario", SHIPPED, ids=lambda s: s.name)
def test_shipped_scenarios_call_real_client_operations(scenario):
    known = client_operations(active_config().service(scenario.service).client_class())
    for phase in scenario.phases:
        for call in phase.calls:
            assert call.op in known, f"{scenario.name}: {call.op} is not a client operation"


def test_scenario_names_match_their_file_names():
    for path in sorted(default_scenario_dir().glob("*.yaml")):
        assert load_scenario(path).name == path.stem


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_a_wrong_field_names_the_file_and_the_field(tmp_path):
    path = _write(
        tmp_path,
        """
name: bad-one
service: payments
description: x
phases:
  - name: p
    faults:
      - toxic: latency
        stream: sideways
    calls:
      - op: get_payment
        with: {payment_id: p1}
        times: 0
""",
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert str(path) in text
    assert "phases[0].faults[0].stream" in text
    assert "phases[0].calls[0].times" in text


def test_a_fault_with_no_kind_says_which_keys_are_allowed(tmp_path):
    path = _write(
        tmp_path,
        "name: x\nservice: users\ndescription: d\n"
        "phases:\n  - name: p\n    faults: [{latency: 5}]\n",
    )
    with pytest.raises(
        ScenarioFileError, match="exactly one of the keys 'toxic', 'proxy' or 'http'"
    ):
        load_scenario(path)


def test_an_unknown_service_is_rejected(tmp_path):
    path = _write(tmp_path, "name: x\nservice: billing\ndescription: d\nphases: [{name: p}]\n")
    with pytest.raises(ScenarioFileError, match=r"service: unknown service 'billing'; .* declares"):
        load_scenario(path)


def test_not_yaml_and_not_a_mapping_are_clear_errors(tmp_path):
    with pytest.raises(ScenarioFileError, match="not valid YAML"):
        load_scenario(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ScenarioFileError, match="one mapping"):
        load_scenario(_write(tmp_path, "- just\n- a list\n"))
    with pytest.raises(ScenarioFileError, match="cannot read the file"):
        load_scenario(tmp_path / "missing.yaml")


def test_duplicate_names_in_a_folder_are_rejected(tmp_path):
    body = "name: same\nservice: users\ndescription: d\nphases: [{name: p}]\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text(body)
    with pytest.raises(ScenarioFileError, match="already used by"):
        load_scenarios(tmp_path)


def test_faults_parse_into_their_kinds_and_describe_themselves(tmp_path):
    scenario = load_scenario(
        _write(
            tmp_path,
            """
name: kinds
service: payments
description: d
phases:
  - name: p
    faults:
      - toxic: latency
        attributes: {latency: 10}
      - proxy: down
      - http: {status: 429, retry_after: "1"}
""",
        )
    )
    faults = scenario.phases[0].faults
    assert [type(f) for f in faults] == [ToxicFault, ProxyFault, HttpFault]
    assert faults[0].toxic_name == "latency_downstream"
    assert scenario.fault_kinds == ["latency", "outage", "http_429"]
    assert scenario.effective_severity == "normal"  # a file says when it is more


def test_bounds_from_a_number_and_in_words():
    assert Bounds.model_validate(3).describe() == "exactly 3"
    assert Bounds(min=1, max=3).contains(2)
    assert not Bounds(max=0.5).contains(0.6)
    assert Bounds(min=1).describe() == "at least 1"
    with pytest.raises(ValueError, match="greater than max"):
        Bounds(min=3, max=1)


def test_outcome_alternatives_split_on_the_bar(tmp_path):
    scenario = load_scenario(
        _write(
            tmp_path,
            """
name: alt
service: users
description: d
phases:
  - name: p
    calls:
      - op: get_user
        with: {user_id: u}
        expect: {outcome: "ReadTimeoutError | DeadlineExceededError"}
""",
        )
    )
    assert scenario.phases[0].calls[0].expect.outcome == [
        "ReadTimeoutError",
        "DeadlineExceededError",
    ]
