"""``stormproof proxy``: the embedded Toxiproxy server as a drop-in for ``toxiproxy-server``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from stormproof.chaos._cli_errors import cli_error


@contextlib.contextmanager
def _json_logs() -> Iterator[None]:
    """Log ``stormproof.toxiproxy`` as JSON lines on stdout, like toxiproxy-server does."""
    from pythonjsonlogger.json import JsonFormatter  # noqa: PLC0415 - keep --help fast

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level"},
        )
    )
    logger = logging.getLogger("stormproof.toxiproxy")
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.level, logger.propagate = saved


def proxy_command(
    *,
    host: Annotated[
        str, typer.Option("--host", "-host", help="Host for the API to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-port", help="Port for the API.")] = 8474,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-config", help="JSON file of proxies to create on startup."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", "-seed", help="Seed for toxicity rolls, jitter and slicing."),
    ] = None,
    proxy_metrics: Annotated[
        bool,
        typer.Option(
            "--proxy-metrics",
            "-proxy-metrics",
            help="Serve Toxiproxy's per-proxy byte counters on /metrics (Prometheus).",
        ),
    ] = False,
    runtime_metrics: Annotated[
        bool,
        typer.Option(
            "--runtime-metrics",
            "-runtime-metrics",
            help="Serve process and runtime metrics on /metrics (Prometheus).",
        ),
    ] = False,
    print_version: Annotated[
        bool, typer.Option("--version", "-version", help="Print the version and exit.")
    ] = False,
) -> None:
    """Run a Toxiproxy 2.12-compatible server (same API, same flags as toxiproxy-server)."""
    from stormproof.chaos import __version__  # noqa: PLC0415
    from stormproof.chaos.toxiproxy._api import TOXIPROXY_VERSION  # noqa: PLC0415 - keep --help fast
    from stormproof.chaos.toxiproxy._server import (  # noqa: PLC0415
        ConfigError,
        ToxiproxyServer,
        new_event_loop,
    )

    if print_version:
        typer.echo(f"toxiproxy-server version {TOXIPROXY_VERSION} (stormproof {__version__})")
        return
    server = ToxiproxyServer(
        host,
        port,
        seed=seed,
        config=config,
        proxy_metrics=proxy_metrics,
        runtime_metrics=runtime_metrics,
    )

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await server.start()
        # What is loaded by now lives as long as the process: keep the cyclic collector from
        # walking it again, since a full pass took 30-40 ms, a pause every connection would feel.
        gc.collect()
        gc.freeze()
        typer.echo(f"stormproof toxiproxy listening on {server.url}", err=True)
        try:
            await stop.wait()
        finally:
            await server.stop()

    try:
        with _json_logs(), asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(serve())
    except ConfigError as exc:
        raise cli_error(str(exc), 1) from None
    except OSError as exc:
        raise cli_error(f"cannot serve the API on {host}:{port}: {exc}", 1) from None
