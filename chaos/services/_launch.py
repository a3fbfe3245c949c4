"""Getting a declared service's provider running for a run or a verification."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

from stormproof.chaos.services._declaration import ServiceDeclaration, resolve


class NoProviderError(LookupError):
    """The service declares no way to reach its provider (no app, command or url)."""


def launch_providers(
    stack: ExitStack, declarations: Sequence[ServiceDeclaration], *, in_process: bool = False
) -> dict[str, str]:
    """The base URL of each service's provider, started on 127.0.0.1 where it must be.

    The `app`s are served together in one child process (or, with `in_process`, in threads of
    this one), each `command` runs as a child process, a `url` is used as it is. Whatever was
    started stops when `stack` closes.

    Raises:
        NoProviderError: a declaration says no app, command or url.
        ProcessStartError: a provider did not start (the message carries its output).
    """
    from stormproof.chaos import _processes  # noqa: PLC0415 - only when something is started

    urls: dict[str, str] = {}
    apps: list[ServiceDeclaration] = []
    for declaration in declarations:
        if declaration.url is not None:
            urls[declaration.name] = declaration.url
        elif declaration.app is not None and in_process:
            urls[declaration.name] = _serve_in_process(stack, declaration)
        elif declaration.app is not None:
            apps.append(declaration)
        elif declaration.command is not None:
            urls[declaration.name] = _processes.start_command(stack, declaration)
        else:
            raise NoProviderError(
                f"service {declaration.name} declares no app, command or url, so its provider "
                "can only be attached (an environment file)"
            )
    if apps:
        urls.update(_processes.start_apps(stack, apps))
    return {declaration.name: urls[declaration.name] for declaration in declarations}


def launch_provider(
    stack: ExitStack, declaration: ServiceDeclaration, *, in_process: bool = False
) -> str:
    """The base URL of one service's provider (see `launch_providers`)."""
    return launch_providers(stack, [declaration], in_process=in_process)[declaration.name]


def _serve_in_process(stack: ExitStack, declaration: ServiceDeclaration) -> str:
    from stormproof.providers import ProviderServer  # noqa: PLC0415

    assert declaration.app is not None
    factory = resolve(declaration.app, what=f"service {declaration.name}: app")
    server = ProviderServer(declaration.name, factory(**declaration.options))
    return stack.enter_context(server.start()).url
