"""A project's stormproof configuration: its services, pacts, scenarios and backend.

Found like Schemathesis finds its own: `stormproof.toml`, or the `[tool.stormproof]` table of
`pyproject.toml`, in the current folder or a parent up to the repository root. `${VAR}` and
`${VAR:-default}` in values come from the environment; paths are relative to the file. With no
configuration, the bundled demo runs (the three reference services, declared the same way).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stormproof.chaos._variables import MissingVariablesError, expand
from stormproof.chaos.services._declaration import ServiceDeclaration

CONFIG_FILE = "stormproof.toml"
_DEMO_PACKAGE = "stormproof.providers"
_DEMO_FILE = "demo.stormproof.toml"
_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class ConfigError(ValueError):
    """A configuration file cannot be read or says something stormproof cannot use."""


class _ServiceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client: str = Field(pattern=r"^[\w.]+:[\w.]+$")
    pact_provider: str | None = None
    app: str | None = Field(default=None, pattern=r"^[\w.]+:[\w.]+$")
    command: list[str] | str | None = None
    url: str | None = Field(default=None, pattern=r"^https?://")
    adapter: str | None = Field(default=None, pattern=r"^[\w.]+:[\w.]+$")
    health_path: str = Field(default="/", pattern=r"^/")
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_provider_source(self) -> _ServiceEntry:
        given = [key for key in ("app", "command", "url") if getattr(self, key) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of app, command and url, not {' and '.join(given)}")
        return self


class MatrixOverride(BaseModel):
    """A derived matrix expectation replaced by hand, with the reason (`[[matrix.overrides]]`).

    Attributes:
        service: The declared service.
        interaction: The pact interaction's description, exactly.
        fault: The fault class (a column name, e.g. `503-after-handler`).
        expect: Call expectation fields that replace the derived ones (`outcome`, `attempts`,
            `elapsed_s`, ...), in the scenario file format.
        reason: Why the derived expectation does not hold for this service (shown in the case).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    interaction: str
    fault: str
    expect: dict[str, Any]
    reason: str = Field(min_length=1)


class _MatrixTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    overrides: list[MatrixOverride] = Field(default_factory=list)


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    services: dict[str, _ServiceEntry] = Field(default_factory=dict)
    matrix: _MatrixTable = Field(default_factory=_MatrixTable)
    pacts: str | None = None
    scenarios: list[str] = Field(default_factory=list)
    backend: str = Field(default="embedded", pattern=r"^(embedded|https?://.+)$")
    pythonpath: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> _ConfigFile:
        bad = [name for name in self.services if not re.match(_NAME, name)]
        if bad:
            raise ValueError(
                f"service names must be lowercase letters, digits, '-' and '_': {', '.join(bad)}"
            )
        return self


@dataclass(frozen=True)
class ProjectConfig:
    """A project's configuration, paths resolved.

    Attributes:
        source: The file it came from.
        services: The declared services by name.
        pacts: The folder of pact files to verify the providers against (None: no contracts).
        scenarios: Scenario files or folders.
        backend: `embedded`, or the URL of a running Toxiproxy.
        pythonpath: Folders to import the declared clients, apps and adapters from (added to
            `sys.path`, and to `PYTHONPATH` for the providers' processes, when loaded).
        matrix_overrides: Derived matrix expectations replaced by hand.
    """

    source: Path
    services: Mapping[str, ServiceDeclaration]
    pacts: Path | None
    scenarios: tuple[Path, ...]
    backend: str = "embedded"
    pythonpath: tuple[Path, ...] = ()
    matrix_overrides: tuple[MatrixOverride, ...] = ()

    def activate(self) -> ProjectConfig:
        """Make `pythonpath` importable here and in child processes; returns self."""
        for folder in reversed(self.pythonpath):
            if str(folder) not in sys.path:
                sys.path.insert(0, str(folder))
        if self.pythonpath:
            known = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
            wanted = [str(p) for p in self.pythonpath if str(p) not in known]
            os.environ["PYTHONPATH"] = os.pathsep.join([*wanted, *known])
        return self

    def toxiproxy_url(self, given: str | None = None) -> str | None:
        """The running Toxiproxy to use, decided once for `stormproof run` and the pytest plugin:
        `given` (`--toxiproxy-url`, else `$TOXIPROXY_URL`), else the configured `backend` URL.

        Returns:
            Its URL, or None for the embedded Toxiproxy.
        """
        if given:
            return given
        return None if self.backend == "embedded" else self.backend

    @property
    def is_demo(self) -> bool:
        """Whether this is the bundled demo's configuration."""
        return self.source == demo_config_path()

    def service(self, name: str) -> ServiceDeclaration:
        """The declaration of `name`.

        Raises:
            ConfigError: no service of that name is declared.
        """
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services)) or "none"
            raise ConfigError(
                f"{self.source}: no service {name!r} is declared (declared: {known})"
            ) from None

    def by_pact_provider(self, provider: str) -> ServiceDeclaration | None:
        """The service whose pact provider name is `provider`."""
        for declaration in self.services.values():
            if declaration.pact_provider == provider:
                return declaration
        return None


def _expand(value: Any, environ: Mapping[str, str], missing: list[str]) -> Any:
    if isinstance(value, str):
        try:
            return expand(value, environ)
        except MissingVariablesError as exc:
            missing += exc.names
            return value
    if isinstance(value, dict):
        return {key: _expand(item, environ, missing) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item, environ, missing) for item in value]
    return value


def _problems(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in error.errors(include_url=False)
    )


def parse_config(
    document: Mapping[str, Any], source: Path, environ: Mapping[str, str] | None = None
) -> ProjectConfig:
    """A configuration from its table (`[tool.stormproof]` or a whole `stormproof.toml`).

    Raises:
        ConfigError: naming the file and every problem.
    """
    missing: list[str] = []
    expanded = _expand(dict(document), os.environ if environ is None else environ, missing)
    if missing:
        raise ConfigError(
            f"{source}: environment variable(s) not set and without a default: "
            + ", ".join(sorted(set(missing)))
        )
    try:
        parsed = _ConfigFile.model_validate(expanded)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid stormproof configuration: {_problems(exc)}") from exc
    root = source.parent

    def path(value: str) -> Path:
        return (root / value).resolve()

    services = {
        name: ServiceDeclaration(
            name=name,
            client=entry.client,
            pact_provider=entry.pact_provider,
            app=entry.app,
            command=tuple(
                shlex.split(entry.command) if isinstance(entry.command, str) else entry.command
            )
            if entry.command is not None
            else None,
            url=entry.url.rstrip("/") if entry.url else None,
            adapter=entry.adapter,
            health_path=entry.health_path,
            options=entry.options,
        )
        for name, entry in parsed.services.items()
    }
    return ProjectConfig(
        source=source,
        services=services,
        pacts=path(parsed.pacts) if parsed.pacts is not None else None,
        scenarios=tuple(path(p) for p in parsed.scenarios),
        backend=parsed.backend,
        pythonpath=tuple(path(p) for p in parsed.pythonpath),
        matrix_overrides=tuple(parsed.matrix.overrides),
    )


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> ProjectConfig:
    """Read a `stormproof.toml`, or the `[tool.stormproof]` table of a `pyproject.toml`.

    Raises:
        ConfigError: the file cannot be read, is not TOML, has no stormproof table, or is invalid.
    """
    path = Path(path).resolve()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if path.name == "pyproject.toml":
        table = document.get("tool", {}).get("stormproof")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: has no [tool.stormproof] table")
        document = table
    return parse_config(document, path, environ)


def find_config(start: str | Path | None = None) -> Path | None:
    """The configuration file that applies in `start` (default: the current folder).

    Looks in `start` and each parent up to the repository root (a folder with `.git`): a
    `stormproof.toml`, else a `pyproject.toml` with a `[tool.stormproof]` table.
    """
    folder = Path.cwd() if start is None else Path(start)
    for candidate in [folder.resolve(), *folder.resolve().parents]:
        own = candidate / CONFIG_FILE
        if own.is_file():
            return own
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
        if (candidate / ".git").exists():
            return None
    return None


def _has_table(pyproject: Path) -> bool:
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(document.get("tool", {}).get("stormproof"), dict)


def demo_config_path() -> Path:
    """The bundled demo's configuration file (the three reference services)."""
    return Path(str(resources.files(_DEMO_PACKAGE).joinpath(_DEMO_FILE))).resolve()


def active_config(
    config: str | Path | None = None, start: str | Path | None = None
) -> ProjectConfig:
    """The configuration to use: `config` if given, else the one found from `start`, else the
    bundled demo."""
    if config is not None:
        return load_config(config).activate()
    found = find_config(start)
    return load_config(found if found is not None else demo_config_path()).activate()
