"""The embedded server: an asyncio `ToxiproxyServer`, and `EmbeddedToxiproxy` to run one in a
background thread from synchronous code (tests, scripts)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from stormproof.chaos.toxiproxy._addr import bind_listener, bound_address, resolve
from stormproof.chaos.toxiproxy._api import MAX_REQUEST_LINE, build_app
from stormproof.chaos.toxiproxy._api_error import ApiError
from stormproof.chaos.toxiproxy._collection import ProxyCollection
from stormproof.chaos.toxiproxy._metrics import Metrics

log = logging.getLogger("stormproof.toxiproxy")

Config = str | os.PathLike[str] | Sequence[Mapping[str, Any]]
"""Proxies to create at start: a JSON file like ``toxiproxy-server -config``, or the list."""


class ConfigError(ValueError):
    """A proxy config file that cannot be read or applied."""


def load_config(config: Config) -> list[Any]:
    """Read a proxy config: a JSON array of ``{name, listen, upstream, enabled}`` objects.

    Raises:
        ConfigError: The file is missing, unreadable, not JSON, or not an array.
    """
    if isinstance(config, str | os.PathLike):
        path = Path(config)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid JSON: {exc}") from None
    else:
        data = [dict(item) for item in config]
    if not isinstance(data, list):
        raise ConfigError("config must be a JSON array of proxies")
    return data


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A uvloop event loop when uvloop is installed, else the default one."""
    try:
        import uvloop  # noqa: PLC0415 - optional speed-up
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


@dataclass(frozen=True, slots=True)
class ServerStats:
    """What a running server holds, for leak checks after load or chaos.

    Attributes:
        proxies: Proxies that exist.
        connections: Proxied connections still open, over every proxy.
        tasks: asyncio tasks alive on the server's event loop (API connections included).
    """

    proxies: int
    connections: int
    tasks: int


class ToxiproxyServer:
    """A Toxiproxy-compatible server on the running event loop (API and proxies).

    Args:
        host: Address of the HTTP API.
        port: Port of the HTTP API; 0 picks a free one.
        seed: Makes toxicity rolls, jitter and slicer sizes reproducible.
        config: Proxies to create at start.
        proxy_metrics: Serve Toxiproxy's per-proxy byte counters on ``/metrics``.
        runtime_metrics: Serve process and runtime metrics on ``/metrics``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8474,
        *,
        seed: int | None = None,
        config: Config | None = None,
        proxy_metrics: bool = False,
        runtime_metrics: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.seed = seed
        self.config = config
        self.metrics = Metrics(proxy=proxy_metrics, runtime=runtime_metrics)
        self._runner: web.AppRunner | None = None
        self._collection: ProxyCollection | None = None

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Create the configured proxies and serve the API.

        Raises:
            ConfigError: The config cannot be read or a proxy in it cannot be created.
            OSError: The API address cannot be bound (e.g. the port is busy).
        """
        loop = asyncio.get_running_loop()
        proxies = load_config(self.config) if self.config is not None else None
        family, sockaddr, shown = await resolve(f"{self._host_for_addr()}:{self.port}")
        try:
            sock = bind_listener(family, sockaddr, shown)
        except ApiError as exc:
            raise OSError(exc.message) from None
        self._collection = collection = ProxyCollection(loop, self.seed, self.metrics.proxy)
        try:
            if proxies is not None:
                try:
                    _, error = await collection.populate(proxies)
                except ApiError as exc:
                    error = exc
                if error is not None:
                    await collection.clear()
                    raise ConfigError(f"cannot create proxies from config: {error.message}")
            self.port = int(bound_address(sock).rsplit(":", 1)[1])
            runner = web.AppRunner(
                build_app(collection, self.metrics),
                access_log=None,
                handle_signals=False,
                shutdown_timeout=1.0,
                max_line_size=MAX_REQUEST_LINE,
            )
            await runner.setup()
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            raise
        self._runner = runner
        log.info(
            "started toxiproxy API",
            extra={
                "event": "server.started",
                "url": self.url,
                "seed": self.seed,
                "proxies": len(collection.proxies),
            },
        )

    def _host_for_addr(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    async def stats(self) -> ServerStats:
        """Count proxies, open connections and tasks (call it on the server's event loop)."""
        proxies = self._collection.proxies if self._collection is not None else {}
        current = asyncio.current_task()
        tasks = sum(1 for task in asyncio.all_tasks() if task is not current)
        connections = sum(len(proxy.connections) for proxy in proxies.values())
        return ServerStats(len(proxies), connections, tasks)

    async def stop(self) -> None:
        """Close every proxy and connection, then the API."""
        if self._collection is not None:
            await self._collection.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        log.info("stopped toxiproxy API", extra={"event": "server.stopped", "url": self.url})


class EmbeddedToxiproxy:
    """A `ToxiproxyServer` on its own event loop in a background thread.

    Use it as a context manager; leaving it closes every connection and joins the thread::

        with EmbeddedToxiproxy() as server:
            client = ToxiproxyClient(server.url)

    Args:
        host: Address of the HTTP API (and default host for proxies you create).
        port: Port of the HTTP API; 0 (the default) picks a free one.
        seed: Makes toxicity rolls, jitter and slicer sizes reproducible.
        config: Proxies to create at start (a JSON file path or a list of objects).
        proxy_metrics: Serve Toxiproxy's per-proxy byte counters on ``/metrics``.
        runtime_metrics: Serve process and runtime metrics on ``/metrics``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        config: Config | None = None,
        *,
        proxy_metrics: bool = False,
        runtime_metrics: bool = False,
    ) -> None:
        self._server = ToxiproxyServer(
            host,
            port,
            seed=seed,
            config=config,
            proxy_metrics=proxy_metrics,
            runtime_metrics=runtime_metrics,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        """Host of the HTTP API."""
        return self._server.host

    @property
    def port(self) -> int:
        """Port of the HTTP API (the picked one once started)."""
        return self._server.port

    @property
    def url(self) -> str:
        """Base URL of the HTTP API, e.g. ``http://127.0.0.1:41234``."""
        return self._server.url

    @property
    def seed(self) -> int | None:
        """The seed toxic randomness derives from, if any."""
        return self._server.seed

    def start(self, timeout: float = 10.0) -> Self:
        """Start the loop thread and the server; returns self.

        Raises:
            RuntimeError: Already started.
            OSError: The API port cannot be bound.
            ConfigError: The config cannot be applied.
        """
        if self._thread is not None:
            raise RuntimeError("EmbeddedToxiproxy is already started")
        loop = new_event_loop()
        thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="stormproof-toxiproxy", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        future = asyncio.run_coroutine_threadsafe(self._server.start(), loop)
        try:
            future.result(timeout)
        except BaseException:
            self._halt()
            raise
        return self

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stats(self, timeout: float = 10.0) -> ServerStats:
        """Count proxies, open connections and event-loop tasks of the running server.

        Args:
            timeout: Seconds to wait for the server's loop to answer.

        Returns:
            The counts at this moment.

        Raises:
            RuntimeError: The server is not running.
        """
        loop = self._loop
        if loop is None:
            raise RuntimeError("EmbeddedToxiproxy is not running")
        return asyncio.run_coroutine_threadsafe(self._server.stats(), loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server: close all proxies and connections, stop the loop, join the thread."""
        loop = self._loop
        if loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._server.stop(), loop)
        try:
            future.result(timeout)
        finally:
            self._halt()

    def _halt(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def _finish() -> None:
            # Let transports closed by stop() run their connection_lost callbacks.
            for _ in range(3):
                await asyncio.sleep(0)
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            asyncio.get_running_loop().stop()

        asyncio.run_coroutine_threadsafe(_finish(), loop)
        thread.join(10.0)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
