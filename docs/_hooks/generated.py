"""MkDocs hooks: the parts of the site generated from the code at build time, never hand-copied.

- `<!-- generated: scenario-reference -->` becomes the reference of every scenario field (type,
  default, limits, description), read from the scenario JSON Schema that stormproof ships
  (`stormproof schema`; a test keeps the shipped file equal to what the pydantic models generate).
- `<!-- generated: error-tree -->` becomes the client error tree drawn in `clients/_errors.py`.
- `<!-- generated: failure-categories -->` becomes the runner's failure categories, in report order.
- `<!-- generated: matrix-rules -->` becomes the fault matrix's table of rules, one row per fault
  class, from `stormproof.chaos.matrix.RULES` (the rules the matrix derives its cases with).
- The shipped schema itself is published at the site's root as `scenario.schema.json`, so pages
  link to it and the strict build checks those links.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import resources
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File as MkDocsFile
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from stormproof.chaos.matrix import RULES
from stormproof.chaos.runner import ALL_CATEGORIES
from stormproof.chaos.toxiproxy import TOXIC_KINDS
from stormproof.clients import ServiceError

SCHEMA_NAME = "scenario.schema.json"
_POLICIES = ("ResiliencePolicy", "RetryPolicy", "BreakerPolicy", "FleetPolicy")
_JSON = dict[str, Any]


def load_schema() -> _JSON:
    """The scenario JSON Schema as stormproof ships it."""
    text = (resources.files("stormproof.chaos.scenario") / SCHEMA_NAME).read_text("utf-8")
    schema: _JSON = json.loads(text)
    return schema


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Publish the shipped scenario schema at the site's root."""
    path = resources.files("stormproof.chaos.scenario") / SCHEMA_NAME
    files.append(MkDocsFile.generated(config, SCHEMA_NAME, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each generation marker by what it stands for."""
    for marker, render in MARKERS.items():
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown


def error_tree() -> str:
    """The error tree of `clients/_errors.py`'s docstring, as a text block."""
    doc = sys.modules[ServiceError.__module__].__doc__ or ""
    tree = doc.split("::\n", 1)[1].split("\n\n", 2)[1]
    lines = [line.removeprefix("    ") for line in tree.splitlines()]
    return "```text\n" + "\n".join(lines) + "\n```"


def failure_categories() -> str:
    """stormproof's failure categories, in the order reports list them."""
    return "\n".join(f"1. {name}" for name in ALL_CATEGORIES)


def matrix_rules() -> str:
    """The matrix's fault classes and their rules, as a table."""
    rows = ["| column | fault class | the fault | what the client must do |", "|---|---|---|---|"]
    rows += [f"| `{rule.short}` | `{rule.name}` | {rule.title} | {rule.rule} |" for rule in RULES]
    return "\n".join(rows)


# --- the scenario reference -------------------------------------------------------------------


def scenario_reference(schema: _JSON) -> str:
    """Markdown sections for the scenario file and every model it nests, root first."""
    defs: dict[str, _JSON] = schema["$defs"]
    order = ["Scenario"]
    models = {"Scenario": schema, **defs}
    for name in order:  # breadth first over the references, in field order
        for prop in _properties(models[name]).values():
            for ref in _refs(prop):
                if ref not in order and ref not in _POLICIES and _properties(defs[ref]):
                    order.append(ref)
    sections = [_model_section(name, models[name], defs) for name in order]
    sections.append(_profile_section(schema))
    sections.append(_toxics_section(defs["ToxicFault"]))
    return "\n\n".join(sections)


def _properties(model: _JSON) -> dict[str, _JSON]:
    if "anyOf" in model:  # a model that also accepts a shorthand (Bounds: a number)
        model = next(part for part in model["anyOf"] if "properties" in part)
    properties: dict[str, _JSON] = model.get("properties", {})
    return properties


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else []
        for key, value in node.items():
            if key != "default":
                found += [ref for ref in _refs(value) if ref not in found]
        return found
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _anchor(name: str) -> str:
    return name.lower()


def _model_section(name: str, model: _JSON, defs: dict[str, _JSON]) -> str:
    if "anyOf" in model:
        shorthand = [part["type"] for part in model["anyOf"] if "properties" not in part]
        model = next(part for part in model["anyOf"] if "properties" in part)
    else:
        shorthand = []
    title = "A scenario file" if name == "Scenario" else name
    lines = [f"### {title} {{#{_anchor(name)}}}", ""]
    if description := model.get("description"):
        lines += [_clean(description), ""]
    if shorthand:
        lines += [f"Also written as a plain {' or '.join(shorthand)}.", ""]
    required = set(model.get("required", []))
    props = _properties(model)
    described = any(prop.get("description") for prop in props.values())
    header = ["field", "type", "default", "limits"] + (["what it is"] if described else [])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for field in sorted(props, key=lambda f: (f not in required, f)):
        prop = props[field]
        default = "required" if field in required else _default(prop)
        cells = [f"`{field}`", _type(prop), default, _limits(prop)]
        if described:
            cells.append(_cell(prop.get("description", "")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _type(prop: _JSON) -> str:
    if "$ref" in prop:
        ref = prop["$ref"].rsplit("/", 1)[1]
        if ref in _POLICIES:
            return f"[{ref}](clients.md#policy-reference)"
        if ref == "JsonValue":  # any JSON: the schema says nothing more
            return "any JSON value"
        return f"[{ref}](#{_anchor(ref)})"
    for combined in ("anyOf", "oneOf"):
        if combined in prop:
            parts = [_type(part) for part in prop[combined] if part.get("type") != "null"]
            nullable = any(part.get("type") == "null" for part in prop[combined])
            text = " or ".join(dict.fromkeys(parts))
            return f"{text} or null" if nullable else text
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in prop["enum"])
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    kind = prop.get("type")
    if kind == "array":
        return f"list of {_type(prop.get('items', {}))}"
    if kind == "object":
        values = prop.get("additionalProperties")
        return f"map of {_type(values)}" if isinstance(values, dict) and values else "mapping"
    if isinstance(kind, str):
        return kind
    if not prop:
        return "any JSON value"
    return "value"


def _default(prop: _JSON) -> str:
    if "default" in prop:
        value = prop["default"]
        if isinstance(value, dict) and value:
            return "see [Profile defaults](#profile-defaults)"
        return f"`{json.dumps(value)}`"
    if prop.get("type") == "array":
        return "`[]`"
    if prop.get("type") == "object":
        return "`{}`"
    if "$ref" in prop:
        return "its fields' defaults"
    return "none"


def _limits(prop: _JSON) -> str:
    words = {
        "minimum": "≥ {}",
        "exclusiveMinimum": "> {}",
        "maximum": "≤ {}",
        "exclusiveMaximum": "< {}",
        "minLength": "at least {} characters",
        "minItems": "at least {} item(s)",
        "maxItems": "at most {} items",
        "pattern": "matches `{}`",
    }
    found = [text.format(prop[key]) for key, text in words.items() if key in prop]
    for part in prop.get("anyOf", []):
        if part.get("type") != "null":
            found += [text.format(part[key]) for key, text in words.items() if key in part]
    return _cell(", ".join(found))


def _clean(text: str) -> str:
    return text.replace("``", "`")


def _cell(text: str) -> str:
    return _clean(text).replace("|", "\\|").replace("\n\n", "<br>").replace("\n", " ")


def _flat(values: _JSON, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def _policy_defaults(defs: dict[str, _JSON], name: str, prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for field, prop in _properties(defs[name]).items():
        if "$ref" in prop:
            found.update(_policy_defaults(defs, prop["$ref"].rsplit("/", 1)[1], f"{field}."))
        else:
            found[prefix + field] = prop.get("default")
    return found


def _profile_section(schema: _JSON) -> str:
    scenario = _flat(schema["properties"]["profile"]["default"])
    client = _policy_defaults(schema["$defs"], "ResiliencePolicy")
    lines = [
        "### Profile defaults {#profile-defaults}",
        "",
        "`profile:` is the client's own `ResiliencePolicy`: the same fields, nesting and checks"
        " (every field is in the [policy reference](clients.md#policy-reference)). A scenario"
        " starts from the client's defaults except for these, short enough for a fast matrix;"
        " its `profile:` then changes any field, e.g."
        " `profile: {deadline_s: 3.0, retry: {max_attempts: 1}}`.",
        "",
        "| field | scenario default | client default |",
        "|---|---|---|",
    ]
    for field, value in scenario.items():
        if client.get(field) != value:
            lines.append(f"| `{field}` | `{json.dumps(value)}` | `{json.dumps(client[field])}` |")
    return "\n".join(lines)


def _toxics_section(toxic: _JSON) -> str:
    lines = [
        "### Toxic attributes {#toxic-attributes}",
        "",
        "The `attributes` of a `toxic:` fault, per toxic type, from the proxy's own toxic"
        " registry (`TOXIC_KINDS`). An attribute left out takes its default.",
        "",
        "| toxic | attribute | type | default | limits | what it is |",
        "|---|---|---|---|---|---|",
    ]
    for case in toxic["allOf"]:
        kind = case["if"]["properties"]["toxic"]["const"]
        defaults = TOXIC_KINDS[kind].defaults()
        attributes = case["then"]["properties"]["attributes"]
        props: dict[str, _JSON] = attributes.get("properties", {})
        if not props:
            lines.append(f"| `{kind}` | (none) | | | | |")
        for name, prop in props.items():
            value = defaults.get(name)
            below = isinstance(value, int) and value < prop.get("minimum", value)
            # The proxy's default of 0 is refused there (bandwidth rate, slicer size): say so.
            default = "required" if value is None or below else f"`{json.dumps(value)}`"
            lines.append(
                f"| `{kind}` | `{name}` | {_type(prop)} | {default} | {_limits(prop)} | "
                f"{_cell(prop.get('description', ''))} |"
            )
    return "\n".join(lines)


def _scenario_reference_page() -> str:
    return scenario_reference(load_schema())


#: Each marker a page may hold, and what renders it.
MARKERS: dict[str, Callable[[], str]] = {
    "<!-- generated: scenario-reference -->": _scenario_reference_page,
    "<!-- generated: error-tree -->": error_tree,
    "<!-- generated: failure-categories -->": failure_categories,
    "<!-- generated: matrix-rules -->": matrix_rules,
}
