"""The README's chaos examples run: the scenario file is valid, the pytest example passes."""

import re
from pathlib import Path

import pytest
import yaml

from stormproof.chaos.scenario import Profile, Scenario

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


def test_the_readme_lists_every_profile_field_with_its_default():
    paragraph = SECTION[SECTION.index("`profile:` sets") :].split("\n\n", 1)[0]
    documented = {
        name: float(value) for name, value in re.findall(r"`(\w+)`\s+\(([\d.]+)", paragraph)
    }
    assert documented == {name: float(value) for name, value in Profile().model_dump().items()}
