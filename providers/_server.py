"""Running provider apps on 127.0.0.1 in background threads (uvicorn), from code."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Self

import uvicorn

from stormproof.providers._middleware import TruncationLogFilter

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stormproof.providers._apps import ServiceName

DEFAULT_HOST = "127.0.0.1"
_STARTUP_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 5.0


class ProviderStartError(RuntimeError):
    """A provider could not start (the port is busy, the host cannot be bound, ...)."""


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, TruncationLogFilter) for f in logger.filters):
        logger.addFilter(TruncationLogFilter())


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ProviderStartError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


class ProviderServer:
    """One provider app served by uvicorn in a background thread.

    Use it as a context manager, or call `stop()`. Attributes: `service`, `app`, `host`, `port`,
    `url` (no trailing slash).
    """

    def __init__(
        self, service: str, app: FastAPI, *, host: str = DEFAULT_HOST, port: int = 0
    ) -> None:
        self.service = service
        self.app = app
        self.host = host
        self._socket = _bind(host, port)
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"provider-{service}-{self.port}", daemon=True
        )
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:8001`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # reported by start(); a thread has nobody else to tell
            self._error = exc

    def start(self) -> Self:
        """Start serving and wait until the server accepts requests.

        Raises:
            ProviderStartError: The server did not come up within 15 s.
        """
        _install_log_filter()
        self._thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                self._socket.close()
                raise ProviderStartError(f"{self.service} provider failed: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise ProviderStartError(f"{self.service} provider did not start in time")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and join the thread (at most ~5 s)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(_STOP_TIMEOUT_S)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(_STOP_TIMEOUT_S)
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class ProviderGroup:
    """Several running providers, by service name. A context manager; `stop()` stops all."""

    def __init__(self, servers: Mapping[str, ProviderServer]) -> None:
        self.servers = dict(servers)

    def __getitem__(self, service: str) -> ProviderServer:
        return self.servers[service]

    def __iter__(self) -> Iterator[ProviderServer]:
        return iter(self.servers.values())

    @property
    def urls(self) -> dict[str, str]:
        """Base URL per service."""
        return {name: server.url for name, server in self.servers.items()}

    def stop(self) -> None:
        """Stop every provider (all asked at once: each may wait out its graceful shutdown)."""
        for server in self.servers.values():
            server._server.should_exit = True
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(
    service: ServiceName,
    *,
    test_mode: bool = True,
    host: str = DEFAULT_HOST,
    port: int = 0,
    app: FastAPI | None = None,
) -> ProviderServer:
    """Start one provider in a background thread and return once it accepts requests.

    Args:
        service: `users`, `notifications` or `payments`.
        test_mode: Mount the `/_test` endpoints (on by default: serving from code is for tests).
        host: Address to bind; loopback by default.
        port: Port to bind; 0 picks a free one (read it back from `.port`).
        app: Serve this app instead of a fresh `create_app(service, test_mode=test_mode)`, for
            example one a test has altered.

    Returns:
        The running server; use it as a context manager or call `.stop()`.

    Raises:
        ProviderStartError: The port is busy or the server did not start.
    """
    # Imported here: serving a team's own app never loads the bundled ones.
    from stormproof.providers._apps import create_app  # noqa: PLC0415

    the_app = app if app is not None else create_app(service, test_mode=test_mode)
    return ProviderServer(service, the_app, host=host, port=port).start()


def serve_all(
    *,
    test_mode: bool = True,
    host: str = DEFAULT_HOST,
    port_base: int | None = None,
    ports: Mapping[str, int] | None = None,
) -> ProviderGroup:
    """Start all three providers; stops the ones already started if one fails.

    Args:
        test_mode: Mount the `/_test` endpoints.
        host: Address to bind; loopback by default.
        port_base: users on `port_base`, notifications on `+1`, payments on `+2`.
        ports: Explicit port per service (wins over `port_base`); missing services get a free port.

    Raises:
        ProviderStartError: A port is busy or a server did not start.
    """
    from stormproof.providers._apps import SERVICES  # noqa: PLC0415

    started: dict[str, ProviderServer] = {}
    try:
        for offset, service in enumerate(SERVICES):
            port = 0 if port_base is None else port_base + offset
            if ports is not None and service in ports:
                port = ports[service]
            started[service] = serve(service, test_mode=test_mode, host=host, port=port)
    except BaseException:
        ProviderGroup(started).stop()
        raise
    return ProviderGroup(started)
