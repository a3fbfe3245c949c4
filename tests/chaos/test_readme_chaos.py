"""docs/scenarios.md: the scenario file is valid and passes, the pytest example passes, the
profile defaults and the validation error it shows are what the code does."""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from stormproof.chaos.scenario import SCENARIO_POLICY, Scenario, ScenarioFileError, load_scenario
from stormproof.clients import ResiliencePolicy

pytest_plugins = ["pytester"]

SECTION = (Path(__file__).resolve().parents[2] / "docs" / "scenarios.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", SECTION, flags=re.DOTALL)


def test_the_readme_scenario_is_a_valid_scenario_and_passes(run_scenario):
    [text] = _blocks("yaml")
    result = run_scenario(Scenario.model_validate(yaml.safe_load(text)))
    assert result.passed, result.failure_message()


def test_the_readme_pytest_example_passes(pytester: pytest.Pytester):
    [code] = _blocks("python")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def _flat(values: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def test_the_readme_lists_every_scenario_default_that_differs_from_the_clients():
    paragraph = SECTION[SECTION.index("`profile:` is") :].split("\n\n", 1)[0]
    documented = dict(re.findall(r"`([\w.]+)`\s+\(([\w.]+)\)", paragraph))
    scenario = _flat(dataclasses.asdict(SCENARIO_POLICY))
    client = _flat(dataclasses.asdict(ResiliencePolicy()))
    differs = {name for name, value in scenario.items() if client[name] != value}
    tolerance = Scenario.model_fields["deadline_tolerance_s"].default
    assert set(documented) == differs | {"deadline_tolerance_s"}
    for name in differs:
        assert float(documented[name]) == scenario[name], name
    assert float(documented["deadline_tolerance_s"]) == tolerance


TYPO_FILE = """\
name: users-latency-typo
service: users
description: a latency the client should ride out
profile: {read_timeout_s: 0.4, retry: {max_attemps: 2}}
phases:
  - name: slow answers
    faults:
      - toxic: latency
        attributes: {latncy: 300}
      - http: {mode: slow, path: users}
    calls:
      - op: get_usr
        with: {user_id: usr_1}
        expect: {outcome: ok | ReadTimeoutEror}
"""


def test_the_readme_validation_error_is_what_the_loader_says(tmp_path):
    path = tmp_path / "users-latency-typo.yaml"
    path.write_text(TYPO_FILE)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    block = next(b for b in re.findall(r"```console\n(.*?)```", SECTION, re.S) if "typo" in b)
    quoted = [line.strip() for line in block.splitlines()[2:] if line.strip()]
    assert len(quoted) == len(caught.value.problems) == 5
    for line, problem in zip(quoted, caught.value.problems, strict=True):
        assert f"- {problem}".startswith(line.removesuffix("...").rstrip())
