"""Reading scenario files: YAML in, validated `Scenario` out, or every problem with file and line.

A scenario is checked in two passes that both always run, so a file's problems come all at once:
the model (fields, types, ranges, toxic attributes, HTTP fault rules, the client policy), then its
calls against the service's real client (operations, arguments, outcomes, `${...}` references).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from stormproof.chaos._options import SCENARIO_SUFFIXES
from stormproof.chaos.scenario._calls import check_calls, check_expectations
from stormproof.chaos.scenario._faults import did_you_mean
from stormproof.chaos.scenario._locations import (
    Location,
    allowed_fields,
    line_index,
    locate,
    without_tags,
)
from stormproof.chaos.scenario._model import Scenario
from stormproof.chaos.services import DeclarationError, ProjectConfig, active_config

_UNKNOWN_KEY = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
# A policy's own check names the field it refused: "deadline_s must be a finite number > 0".
_FIELD_RULE = re.compile(r"^(\w+) must be ")


class ScenarioFileError(ValueError):
    """A scenario file could not be read or does not describe a valid scenario.

    Attributes:
        path: The file (or the name a document was given).
        problems: Every problem found, each as `line N: field: what is wrong`.
    """

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        super().__init__(f"{path}: invalid scenario file ({count})\n{listed}")


def _dotted(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _model_problems(document: Mapping[str, Any]) -> list[tuple[Location, str]]:
    try:
        Scenario.model_validate(document)
    except ValidationError as exc:
        problems: list[tuple[Location, str]] = []
        for detail in exc.errors(include_url=False):
            tagged: Location = tuple(detail["loc"])
            loc = without_tags(Scenario, tagged)
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] in _UNKNOWN_KEY and loc and isinstance(loc[-1], str):
                allowed = allowed_fields(Scenario, tagged[:-1]) or []
                nested = [
                    f"{name}.{inner}"
                    for name in allowed
                    for inner in allowed_fields(Scenario, (*tagged[:-1], name)) or []
                ]
                message = f"unknown field{did_you_mean(loc[-1], allowed + nested)}"
                if allowed:
                    message += f"; allowed here: {', '.join(allowed)}"
            elif (rule := _FIELD_RULE.match(message)) is not None and rule.group(1) not in loc:
                loc = (*loc, rule.group(1))
            problems.append((loc, message))
        return problems
    return []


def _service_problems(
    document: Mapping[str, Any], config: ProjectConfig
) -> list[tuple[Location, str]]:
    service = document.get("service")
    if not isinstance(service, str):
        return []
    if service not in config.services:
        declared = list(config.services)
        return [
            (
                ("service",),
                f"unknown service {service!r}{did_you_mean(service, declared)}; "
                f"{config.source.name} declares: {', '.join(declared) or 'none'}",
            )
        ]
    declaration = config.services[service]
    try:
        client = declaration.client_class()
        adapter = declaration.adapter_class()
    except DeclarationError as exc:
        return [(("service",), str(exc))]
    return check_calls(document, client) + check_expectations(document, adapter, service)


def parse_scenario(
    document: Mapping[str, Any],
    *,
    source: Path | str = "<scenario>",
    text: str | None = None,
    config: ProjectConfig | None = None,
) -> Scenario:
    """Validate a scenario document (a file's YAML, or a dict in the same format).

    Args:
        document: The scenario in the file format.
        source: What to call it in errors (its path).
        text: The YAML text it came from, to give each problem its line.
        config: The project whose services it may name (the active configuration when None).

    Raises:
        ScenarioFileError: naming the source and every problem (line, field, what is wrong).
    """
    if config is None:
        config = active_config()
    problems = _model_problems(document) + _service_problems(document, config)
    if problems:
        lines = line_index(text) if text is not None else {}
        located = [
            (locate(lines, loc) if lines else None, loc, message) for loc, message in problems
        ]
        # In the file's order (stable: problems of one line keep the order they were found in).
        located.sort(key=lambda found: found[0] if found[0] is not None else 0)
        described = [
            f"{f'line {line}: ' if line is not None else ''}{_dotted(loc)}: {message}"
            for line, loc, message in located
        ]
        raise ScenarioFileError(source, described)
    return Scenario.model_validate(document)


def load_scenario(path: str | Path, *, config: ProjectConfig | None = None) -> Scenario:
    """Read and validate one scenario file.

    Raises:
        ScenarioFileError: the file is missing, is not YAML, or breaks the scenario model; the
            message names the file and each problem with its line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioFileError(path, [f"cannot read the file: {exc.strerror}"]) from exc
    except UnicodeDecodeError as exc:
        raise ScenarioFileError(path, [f"not UTF-8 text: {exc.reason}"]) from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioFileError(path, [f"not valid YAML: {exc}"]) from exc
    if not isinstance(document, dict):
        raise ScenarioFileError(path, ["the file must contain one mapping (name, service, ...)"])
    return parse_scenario(document, source=path, text=text, config=config)


def scenario_files(root: str | Path) -> list[Path]:
    """The scenario files under `root` (a file or a folder), sorted by path."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.suffix in SCENARIO_SUFFIXES and p.is_file())


def load_scenarios(root: str | Path, *, config: ProjectConfig | None = None) -> list[Scenario]:
    """Load every scenario under `root`; scenario names must be unique.

    Raises:
        ScenarioFileError: for the first invalid file, or a duplicate name.
    """
    config = config if config is not None else active_config()
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for path in scenario_files(root):
        scenario = load_scenario(path, config=config)
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
