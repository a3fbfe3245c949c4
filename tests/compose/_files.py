"""Loading the compose wiring, the workflow and the schemas they are checked against."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
TOXIPROXY_CONFIG = ROOT / "compose" / "toxiproxy.json"
ENVIRONMENT_FILE = ROOT / "compose" / "environment.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
COMPOSE_DOC = ROOT / "docs" / "ci-and-compose.md"


class _Yaml12Loader(yaml.SafeLoader):
    """YAML as GitHub and Compose read it: only `true`/`false` are booleans (`on:` stays a key)."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file with YAML 1.2 booleans."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)


def compose() -> dict[str, Any]:
    """docker-compose.yml as a mapping."""
    document = load_yaml(COMPOSE_FILE)
    assert isinstance(document, dict)
    return document


def toxiproxy_config() -> list[dict[str, Any]]:
    """compose/toxiproxy.json: the proxies Toxiproxy creates at start."""
    proxies = json.loads(TOXIPROXY_CONFIG.read_text(encoding="utf-8"))
    assert isinstance(proxies, list)
    return proxies


@cache
def vendored_schema(name: str) -> jsonschema.protocols.Validator:
    """A validator for one of check-jsonschema's vendored schemas (`compose-spec`, ...)."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / f"{name}.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    """Every schema violation as `path: message`."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def host_port(address: str) -> tuple[str, int]:
    """Split `host:port` (the port is the part after the last colon)."""
    host, _, port = address.rpartition(":")
    return host, int(port)
