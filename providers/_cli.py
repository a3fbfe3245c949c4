"""`stormproof providers`: serve the three reference providers until Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from stormproof.chaos._cli_errors import cli_error, cli_warning

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def providers_command(
    *,
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port_base: Annotated[
        int,
        typer.Option(
            help="users on this port, notifications on +1, payments on +2; 0 picks free ports."
        ),
    ] = 8001,
    users_port: Annotated[int | None, typer.Option(help="Port of the users service.")] = None,
    notifications_port: Annotated[
        int | None, typer.Option(help="Port of the notification service.")
    ] = None,
    payments_port: Annotated[int | None, typer.Option(help="Port of the payment service.")] = None,
    test_mode: Annotated[
        bool, typer.Option("--test-mode", help="Enable the /_test endpoints (faults, states).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="Do not log one line per request on stderr.")
    ] = False,
) -> None:
    """Serve the users, notification and payment providers until Ctrl-C."""
    from stormproof.providers import SERVICES, ProviderStartError, serve_all  # noqa: PLC0415 - fast --help

    explicit = {"users": users_port, "notifications": notifications_port, "payments": payments_port}
    ports = {name: port for name, port in explicit.items() if port is not None}
    for name, port in [("port-base", port_base), *ports.items()]:
        if not 0 <= port <= 65535 - (2 if name == "port-base" else 0):
            raise cli_error(f"invalid {name} {port}")
    if host not in _LOOPBACK:
        cli_warning(f"binding {host}: the providers are reachable beyond this machine")
    try:
        group = serve_all(test_mode=test_mode, host=host, port_base=port_base or None, ports=ports)
    except ProviderStartError as exc:
        raise cli_error(str(exc), 1) from None

    if not quiet:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        request_log = logging.getLogger("providers.requests")
        request_log.addHandler(stream)
        request_log.setLevel(logging.INFO)
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for name in SERVICES:
            typer.echo(f"{name:<14} {group[name].url}")
        mode = "on (/_test endpoints enabled)" if test_mode else "off"
        typer.echo(f"test mode: {mode}")
        typer.echo("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        group.stop()
    typer.echo("stopped")
