"""A service, declared once: its client, its contract, how to reach its provider, its adapter."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from stormproof.chaos.services._adapter import NoAdapter, ProviderAdapter

if TYPE_CHECKING:
    from stormproof.clients import ServiceClient


class DeclarationError(ValueError):
    """A service declaration names something that cannot be found or used."""


def close_adapter(adapter: ProviderAdapter) -> None:
    """Release what an adapter holds, if it has a `close()` (a session, a connection)."""
    close = getattr(adapter, "close", None)
    if callable(close):
        close()


def resolve(reference: str, *, what: str) -> Any:
    """The object a `package.module:attribute` reference names.

    Raises:
        DeclarationError: the reference is malformed, or the module or attribute is missing.
    """
    module_name, colon, attribute = reference.partition(":")
    if not colon or not module_name or not attribute:
        raise DeclarationError(f"{what} {reference!r} must look like 'package.module:name'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeclarationError(f"{what} {reference!r}: cannot import {module_name}: {exc}") from exc
    value: Any = module
    for part in attribute.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise DeclarationError(
                f"{what} {reference!r}: {module_name} has no attribute {attribute!r}"
            ) from None
    return value


@dataclass(frozen=True)
class ServiceDeclaration:
    """Everything stormproof needs to know about one service.

    Exactly one of `app`, `command` and `url` says where the provider comes from on the embedded
    backend; with none, the service can only run attached (an environment file).

    Attributes:
        name: The name scenarios use (`service: orders`).
        client: `package.module:Class` of its client, a `ServiceClient` subclass.
        pact_provider: The provider's name in the pact files, if it has a contract.
        app: `package.module:factory` of an ASGI app, served on 127.0.0.1 for the run.
        command: A command that starts the provider; `{host}` and `{port}` are filled in.
        url: A provider that is already running.
        adapter: `package.module:Class` of its provider adapter, built with the provider's URL.
        health_path: Polled until it answers, after the provider was started.
        options: Free-form settings for the adapter or factory (from the config file).
    """

    name: str
    client: str
    pact_provider: str | None = None
    app: str | None = None
    command: tuple[str, ...] | None = None
    url: str | None = None
    adapter: str | None = None
    health_path: str = "/"
    options: Mapping[str, Any] = field(default_factory=dict)

    def client_class(self) -> type[ServiceClient]:
        """The client class (imported on first use).

        Raises:
            DeclarationError: it cannot be imported or is not a `ServiceClient` subclass.
        """
        # Imported here: a provider process resolves only its app, never a client.
        from stormproof.clients import ServiceClient  # noqa: PLC0415

        value = resolve(self.client, what=f"service {self.name}: client")
        if not (isinstance(value, type) and issubclass(value, ServiceClient)):
            raise DeclarationError(
                f"service {self.name}: client {self.client!r} is not a ServiceClient subclass"
            )
        return value

    def adapter_class(self) -> type[ProviderAdapter]:
        """The provider adapter class (`NoAdapter` when none is declared)."""
        if self.adapter is None:
            return NoAdapter
        value = resolve(self.adapter, what=f"service {self.name}: adapter")
        if not isinstance(value, type):
            raise DeclarationError(f"service {self.name}: adapter {self.adapter!r} is not a class")
        missing = [
            name
            for name in ("SIDE_EFFECTS", "INVARIANTS", "reset", "set_state", "side_effects")
            if not hasattr(value, name)
        ]
        if missing:
            raise DeclarationError(
                f"service {self.name}: adapter {self.adapter!r} lacks {', '.join(missing)} "
                "(see stormproof.chaos.services.ProviderAdapter)"
            )
        return value

    def build_adapter(self, base_url: str) -> ProviderAdapter:
        """The provider adapter for a provider at `base_url` (close it with `close_adapter`)."""
        # An adapter class is built with the provider's URL (the protocol cannot say so).
        factory = cast(Callable[[str], ProviderAdapter], self.adapter_class())
        return factory(base_url)
