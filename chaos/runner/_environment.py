"""Where the chaos runs: the proxy, the providers, and how the clients reach them.

Three backends, one `ChaosEnvironment`:
- embedded (default): an embedded Toxiproxy and the three providers on free ports of 127.0.0.1;
- toxiproxy: an already running Toxiproxy (`--toxiproxy-url`), providers still embedded;
- attached: everything described by an environment file (how docker-compose runs it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient, ToxiproxyError

SERVICES: tuple[str, ...] = ("users", "notifications", "payments")
Backend = Literal["embedded", "toxiproxy", "attached"]


class ChaosEnvironmentError(RuntimeError):
    """The chaos environment could not be started or reached; the message says what to fix."""


@dataclass(frozen=True)
class ServiceEndpoint:
    """How one service is wired: client → proxy (listen) → provider (upstream).

    Attributes:
        service: Service name.
        proxy: The proxy's name on Toxiproxy.
        listen: The proxy's listen address, as Toxiproxy binds it.
        upstream: The provider's address, as Toxiproxy reaches it.
        client_url: Base URL the client uses (through the proxy).
        provider_url: The provider's own base URL (its test-mode API, never proxied).
    """

    service: str
    proxy: str
    listen: str
    upstream: str
    client_url: str
    provider_url: str


@dataclass(frozen=True)
class ChaosEnvironment:
    """A running (or attached) chaos environment."""

    backend: Backend
    toxiproxy_url: str
    toxiproxy_version: str
    services: Mapping[str, ServiceEndpoint]

    def endpoint(self, service: str) -> ServiceEndpoint:
        """The wiring of `service`."""
        return self.services[service]

    def describe(self) -> dict[str, str]:
        """Facts for reports (Allure environment): backend, Toxiproxy version, addresses."""
        facts = {
            "backend": self.backend,
            "toxiproxy": f"{self.toxiproxy_url} ({self.toxiproxy_version})",
        }
        for name, endpoint in self.services.items():
            facts[f"{name}"] = f"{endpoint.client_url} -> {endpoint.upstream}"
        return facts


class _ServiceEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    proxy: str
    listen: str
    upstream: str
    client_url: str
    provider_url: str


class _EnvironmentFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    toxiproxy_url: str
    services: dict[Literal["users", "notifications", "payments"], _ServiceEntry]


_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def _expand(text: str, environ: Mapping[str, str]) -> str:
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    expanded = _VARIABLE.sub(substitute, text)
    if missing:
        raise ChaosEnvironmentError(
            "environment variable(s) not set and without a default: " + ", ".join(missing)
        )
    return expanded


def read_environment_file(
    path: str | Path, environ: Mapping[str, str] | None = None
) -> tuple[str, dict[str, ServiceEndpoint]]:
    """Read an environment file; `${VAR}` and `${VAR:-default}` are expanded from `environ`.

    Returns:
        The Toxiproxy URL and the wiring of every service.

    Raises:
        ChaosEnvironmentError: the file is missing, not YAML, or incomplete; the message says where.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ChaosEnvironmentError(
            f"{path}: cannot read the environment file: {exc.strerror}"
        ) from exc
    try:
        text = _expand(raw, os.environ if environ is None else environ)
        document: Any = yaml.safe_load(text)
        parsed = _EnvironmentFile.model_validate(document)
    except ChaosEnvironmentError as exc:
        raise ChaosEnvironmentError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ChaosEnvironmentError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ChaosEnvironmentError(f"{path}: invalid environment file: {problems}") from exc
    missing = [name for name in SERVICES if name not in parsed.services]
    if missing:
        raise ChaosEnvironmentError(f"{path}: services missing: {', '.join(missing)}")
    services: dict[str, ServiceEndpoint] = {
        name: ServiceEndpoint(service=name, **entry.model_dump())
        for name, entry in parsed.services.items()
    }
    return parsed.toxiproxy_url, services


def _toxiproxy_version(client: ToxiproxyClient, url: str) -> str:
    try:
        return client.version()
    except (ToxiproxyError, OSError) as exc:
        raise ChaosEnvironmentError(f"cannot reach Toxiproxy at {url}: {exc}") from exc


def _ensure_proxies(client: ToxiproxyClient, services: Mapping[str, ServiceEndpoint]) -> None:
    """Create missing proxies (populate keeps existing, unchanged ones and their toxics)."""
    client.populate(
        [
            {"name": e.proxy, "listen": e.listen, "upstream": e.upstream, "enabled": True}
            for e in services.values()
        ]
    )


@contextmanager
def start_environment(
    *,
    seed: int | None = None,
    toxiproxy_url: str | None = None,
    environment_file: str | Path | None = None,
) -> Iterator[ChaosEnvironment]:
    """Start (or attach to) a chaos environment and tear it down afterwards.

    Args:
        seed: Seed of the embedded proxy's toxicity rolls and jitter.
        toxiproxy_url: Use this running Toxiproxy instead of the embedded one.
        environment_file: Attach to everything the file describes (nothing is started).

    Raises:
        ChaosEnvironmentError: something could not be started or reached.
    """
    if environment_file is not None:
        url, attached = read_environment_file(environment_file)
        client = ToxiproxyClient(url)
        version = _toxiproxy_version(client, url)
        _ensure_proxies(client, attached)
        yield ChaosEnvironment("attached", url, version, attached)
        return

    from stormproof import providers  # noqa: PLC0415 - only the embedded backends need the provider apps

    with ExitStack() as stack:
        if toxiproxy_url is None:
            server = stack.enter_context(EmbeddedToxiproxy(seed=seed))
            url, backend = server.url, "embedded"
        else:
            url, backend = toxiproxy_url.rstrip("/"), "toxiproxy"
        client = ToxiproxyClient(url)
        version = _toxiproxy_version(client, url)
        services: dict[str, ServiceEndpoint] = {}
        for name in providers.SERVICES:
            provider = stack.enter_context(providers.serve(name, test_mode=True))
            proxy_name = f"stormproof_{name}"
            upstream = f"127.0.0.1:{provider.port}"
            with suppress(ToxiproxyError):
                client.delete_proxy(proxy_name)
            proxy = client.create_proxy(proxy_name, listen="127.0.0.1:0", upstream=upstream)
            stack.callback(_delete_quietly, client, proxy_name)
            services[name] = ServiceEndpoint(
                service=name,
                proxy=proxy_name,
                listen=proxy.listen,
                upstream=upstream,
                client_url=f"http://{proxy.listen}",
                provider_url=provider.url,
            )
        yield ChaosEnvironment(backend, url, version, services)  # type: ignore[arg-type]


def _delete_quietly(client: ToxiproxyClient, name: str) -> None:
    with suppress(ToxiproxyError, OSError):
        client.delete_proxy(name)
