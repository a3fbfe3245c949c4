"""Reading scenario files: YAML in, validated `Scenario` out, or an error naming file and field."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from stormproof.chaos.scenario._model import Scenario

SCENARIO_SUFFIXES = (".yaml", ".yml")


class ScenarioFileError(ValueError):
    """A scenario file could not be read or does not describe a valid scenario."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{path}: invalid scenario file\n{listed}")


def _location(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors(include_url=False):
        # Discriminated unions add the tag ("toxic", "http") to the location; keep it, it says which
        # kind of fault the message is about.
        problems.append(f"{_location(detail['loc'])}: {detail['msg']}")
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file.

    Raises:
        ScenarioFileError: the file is missing, is not YAML, or breaks the scenario model; the
            message names the file and each offending field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(path, [f"cannot read the file: {exc.strerror}"]) from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioFileError(path, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(document, dict):
        raise ScenarioFileError(path, ["the file must contain one mapping (name, service, ...)"])
    try:
        return Scenario.model_validate(document)
    except ValidationError as exc:
        raise ScenarioFileError(path, _describe(exc)) from exc


def scenario_files(root: str | Path) -> list[Path]:
    """The scenario files under `root` (a file or a folder), sorted by path."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file())


def load_scenarios(root: str | Path) -> list[Scenario]:
    """Load every scenario under `root`; scenario names must be unique.

    Raises:
        ScenarioFileError: for the first invalid file, or a duplicate name.
    """
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for path in scenario_files(root):
        scenario = load_scenario(path)
        if scenario.name in seen:
            raise ScenarioFileError(
                path, [f"name: {scenario.name!r} is already used by {seen[scenario.name]}"]
            )
        seen[scenario.name] = path
        scenarios.append(scenario)
    return scenarios


def default_scenario_dir() -> Path:
    """The scenario files shipped with stormproof (`chaos/scenarios/`)."""
    return Path(__file__).resolve().parent.parent / "scenarios"
