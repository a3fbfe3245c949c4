"""Getting a declared service's provider running for a run or a verification."""

from __future__ import annotations

from contextlib import ExitStack

from stormproof.chaos.services._declaration import ServiceDeclaration, resolve


class NoProviderError(LookupError):
    """The service declares no way to reach its provider (no app, command or url)."""


def launch_provider(
    stack: ExitStack, declaration: ServiceDeclaration, *, in_process: bool = False
) -> str:
    """The base URL of the service's provider, started on 127.0.0.1 if it must be.

    An `app` is served in a child process (or, with `in_process`, a thread of this one), a
    `command` runs as a child process, a `url` is used as it is. Whatever was started stops when
    `stack` closes.

    Raises:
        NoProviderError: the declaration says no app, command or url.
        ProcessStartError: the provider did not start (the message carries its output).
    """
    from stormproof.chaos import _processes  # noqa: PLC0415 - only when something is started

    if declaration.url is not None:
        return declaration.url
    if declaration.app is not None and in_process:
        from stormproof.providers import ProviderServer  # noqa: PLC0415

        factory = resolve(declaration.app, what=f"service {declaration.name}: app")
        server = ProviderServer(declaration.name, factory(**declaration.options))
        return stack.enter_context(server.start()).url
    if declaration.app is not None:
        return _processes.start_app(stack, declaration)
    if declaration.command is not None:
        return _processes.start_command(stack, declaration)
    raise NoProviderError(
        f"service {declaration.name} declares no app, command or url, so its provider can only "
        "be attached (an environment file)"
    )
