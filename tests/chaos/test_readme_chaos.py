"""The README's chaos examples run: the scenario file is valid, the pytest example passes."""

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from stormproof.chaos.scenario import SCENARIO_POLICY, Scenario

pytest_plugins = ["pytester"]

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README[README.index("## Chaos scenarios") :]


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


def test_the_readme_lists_every_profile_field_with_its_default():
    paragraph = SECTION[SECTION.index("`profile:` is") :].split("\n\n", 1)[0]
    documented = dict(re.findall(r"`([\w.]+)`\s+\(([\w.]+)\)", paragraph))
    expected = _flat(dataclasses.asdict(SCENARIO_POLICY))
    expected["deadline_tolerance_s"] = Scenario.model_fields["deadline_tolerance_s"].default
    assert set(documented) == set(expected)
    for name, value in expected.items():
        text = documented[name]
        assert (text == str(value).lower()) if isinstance(value, bool) else float(text) == value
