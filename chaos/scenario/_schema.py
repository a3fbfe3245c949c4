"""The JSON Schema of scenario files, generated from the scenario model, for editors.

Editors with the YAML language server complete and check a scenario file that starts with
`# yaml-language-server: $schema=<path>`; `stormproof schema` prints the shipped schema's path or
writes a fresh one. The loader remains the judge (it also checks calls against the service's
client); the schema says what an editor can know without importing anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stormproof.chaos.scenario._model import OK, Scenario
from stormproof.chaos.toxiproxy._toxics import KINDS, ToxicKind

SCHEMA_FILE = Path(__file__).resolve().parent / "scenario.schema.json"
_POLICIES = ("ResiliencePolicy", "RetryPolicy", "BreakerPolicy", "FleetPolicy")


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "stormproof scenario"
    defs = schema["$defs"]
    # The policy dataclasses refuse unknown keys (they take keyword arguments): say so.
    for name in _POLICIES:
        defs[name]["additionalProperties"] = False
    # What the model's before-validators accept besides their canonical form.
    defs["Bounds"] = {"anyOf": [{"type": "number"}, defs["Bounds"]]}
    outcome = defs["CallExpectation"]["properties"]["outcome"]
    defs["CallExpectation"]["properties"]["outcome"] = {
        "anyOf": [{"type": "string", "description": "outcomes separated by '|'"}, outcome],
        "default": [OK],  # the model's default_factory, which pydantic's schema leaves out
    }
    toxic = defs["ToxicFault"]
    toxic["properties"]["toxic"]["enum"] = sorted(KINDS)
    toxic["allOf"] = [
        {
            "if": {"properties": {"toxic": {"const": name}}, "required": ["toxic"]},
            "then": {"properties": {"attributes": _attributes_schema(kind)}},
        }
        for name, kind in sorted(KINDS.items())
    ]
    return schema


def _attributes_schema(kind: ToxicKind) -> dict[str, Any]:
    if kind.json_schema is not None:  # a stormproof extension (http) describes its own
        return kind.json_schema()
    return {
        "type": "object",
        "properties": {
            spec.name: {
                "type": "integer",
                "minimum": spec.minimum,
                "maximum": spec.maximum,
                **({"description": spec.why} if spec.why else {}),
            }
            for spec in kind.attrs
        },
        "additionalProperties": False,
    }


def schema_text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"
