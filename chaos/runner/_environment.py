"""Where the chaos runs: the proxy, the providers, and how the clients reach them.

Three backends, one `ChaosEnvironment`, for every service the project declares:
- embedded (default): the embedded Toxiproxy in a child process, and the declared providers on
  free ports of 127.0.0.1: the `app`s together in one more child process, each `command` in its
  own, a `url` used as it is;
- toxiproxy: an already running Toxiproxy (`--toxiproxy-url`), providers as above;
- attached: everything described by an environment file (how docker-compose runs it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from stormproof.chaos._variables import MissingVariablesError, expand
from stormproof.chaos.services import ProjectConfig, ProviderAdapter
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError

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
    adapters: Mapping[str, ProviderAdapter]
    config: ProjectConfig

    def endpoint(self, service: str) -> ServiceEndpoint:
        """The wiring of `service`."""
        return self.services[service]

    def adapter(self, service: str) -> ProviderAdapter:
        """The provider adapter of `service` (states, side effects, traffic)."""
        return self.adapters[service]

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
    services: dict[str, _ServiceEntry]


def read_environment_file(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    services: Iterable[str] | None = None,
) -> tuple[str, dict[str, ServiceEndpoint]]:
    """Read an environment file; `${VAR}` and `${VAR:-default}` are expanded from `environ`.

    Args:
        path: The file.
        environ: Variables for `${...}` (the process environment when None).
        services: Services the file must wire (every one it lists when None).

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
        text = expand(raw, os.environ if environ is None else environ)
        document: Any = yaml.safe_load(text)
        parsed = _EnvironmentFile.model_validate(document)
    except MissingVariablesError as exc:
        raise ChaosEnvironmentError(f"{path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ChaosEnvironmentError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise ChaosEnvironmentError(f"{path}: invalid environment file: {problems}") from exc
    missing = [name for name in services or () if name not in parsed.services]
    if missing:
        raise ChaosEnvironmentError(f"{path}: services missing: {', '.join(missing)}")
    endpoints = {
        name: ServiceEndpoint(service=name, **entry.model_dump())
        for name, entry in parsed.services.items()
    }
    return parsed.toxiproxy_url, endpoints


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


def _host_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname is None:
        raise ChaosEnvironmentError(f"provider URL {url!r} has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


@contextmanager
def start_environment(
    *,
    config: ProjectConfig | None = None,
    seed: int | None = None,
    toxiproxy_url: str | None = None,
    environment_file: str | Path | None = None,
    in_process: bool = False,
) -> Iterator[ChaosEnvironment]:
    """Start (or attach to) a chaos environment for the declared services; tear it down after.

    Args:
        config: The project's configuration (the one found from the current folder when None).
        seed: Seed of the embedded proxy's toxicity rolls and jitter.
        toxiproxy_url: Use this running Toxiproxy instead of the embedded one.
        environment_file: Attach to everything the file describes (nothing is started).
        in_process: Run the embedded proxy and app providers in threads of this process instead
            of child processes (they then share its interpreter with the client).

    Raises:
        ChaosEnvironmentError: something could not be started or reached.
    """
    from stormproof.chaos.services import DeclarationError, active_config  # noqa: PLC0415

    config = config if config is not None else active_config()
    with ExitStack() as stack:
        try:
            environment = _start(
                stack, config, seed=seed, toxiproxy_url=toxiproxy_url,
                environment_file=environment_file, in_process=in_process,
            )  # fmt: skip
        except DeclarationError as exc:
            raise ChaosEnvironmentError(str(exc)) from exc
        yield environment


def _start(
    stack: ExitStack,
    config: ProjectConfig,
    *,
    seed: int | None,
    toxiproxy_url: str | None,
    environment_file: str | Path | None,
    in_process: bool,
) -> ChaosEnvironment:
    from stormproof.chaos.services import close_adapter  # noqa: PLC0415

    if environment_file is not None:
        url, services = read_environment_file(environment_file, services=list(config.services))
        client = ToxiproxyClient(url)
        version = _toxiproxy_version(client, url)
        _ensure_proxies(client, services)
        backend: Backend = "attached"
    else:
        toxiproxy = _toxiproxy(stack, toxiproxy_url, seed, in_process=in_process)
        # The providers start while the proxy's process does.
        provider_urls = _providers(stack, config, in_process=in_process)
        url, backend = toxiproxy()
        client = ToxiproxyClient(url)
        version = _toxiproxy_version(client, url)
        services = {
            name: _proxied(stack, client, name, provider_url)
            for name, provider_url in provider_urls.items()
        }
    adapters = {
        name: config.service(name).build_adapter(endpoint.provider_url)
        for name, endpoint in services.items()
        if name in config.services
    }
    for adapter in adapters.values():
        stack.callback(close_adapter, adapter)
    return ChaosEnvironment(backend, url, version, services, adapters, config)


def _toxiproxy(
    stack: ExitStack, toxiproxy_url: str | None, seed: int | None, *, in_process: bool
) -> Callable[[], tuple[str, Backend]]:
    """The Toxiproxy to use, started if it must be; call the result for its URL (it waits)."""
    if toxiproxy_url is not None:
        url = toxiproxy_url.rstrip("/")
        return lambda: (url, "toxiproxy")
    if in_process:
        from stormproof.chaos.toxiproxy import EmbeddedToxiproxy  # noqa: PLC0415

        embedded = stack.enter_context(EmbeddedToxiproxy(seed=seed)).url
        return lambda: (embedded, "embedded")
    from stormproof.chaos import _processes  # noqa: PLC0415

    child = _processes.spawn_proxy(stack, seed)

    def started() -> tuple[str, Backend]:
        try:
            return _processes.proxy_url(child), "embedded"
        except _processes.ProcessStartError as exc:
            raise ChaosEnvironmentError(str(exc)) from exc

    return started


def _providers(stack: ExitStack, config: ProjectConfig, *, in_process: bool) -> dict[str, str]:
    from stormproof.chaos._processes import ProcessStartError  # noqa: PLC0415
    from stormproof.chaos.services import launch_providers  # noqa: PLC0415

    try:
        return launch_providers(stack, list(config.services.values()), in_process=in_process)
    except (ProcessStartError, LookupError) as exc:
        raise ChaosEnvironmentError(str(exc)) from exc


def _proxied(
    stack: ExitStack, client: ToxiproxyClient, service: str, provider_url: str
) -> ServiceEndpoint:
    name = f"stormproof_{service}"
    upstream = _host_port(provider_url)
    with suppress(ToxiproxyError):
        client.delete_proxy(name)
    proxy = client.create_proxy(name, listen="127.0.0.1:0", upstream=upstream)
    stack.callback(_delete_quietly, client, name)
    return ServiceEndpoint(
        service=service,
        proxy=name,
        listen=proxy.listen,
        upstream=upstream,
        client_url=f"http://{proxy.listen}",
        provider_url=provider_url,
    )


def _delete_quietly(client: ToxiproxyClient, name: str) -> None:
    with suppress(ToxiproxyError, OSError):
        client.delete_proxy(name)
