"""A small typed client for the Toxiproxy HTTP API (ours or a real Toxiproxy 2.x)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload
from urllib.parse import quote

import requests

from stormproof.chaos.toxiproxy._errors import (
    ToxiproxyConnectionError,
    ToxiproxyError,
    ToxiproxyNotFoundError,
    error_for_status,
)
from stormproof.chaos.toxiproxy._models import (
    DOWNSTREAM,
    Attributes,
    Proxy,
    ProxySpec,
    Toxic,
    ToxicSpec,
    ToxicStats,
)

_USER_AGENT = "stormproof-toxiproxy-client"


def _seg(name: str) -> str:
    return quote(name, safe="")


def _reason(exc: requests.RequestException) -> str:
    """The root cause in a few words, not urllib3's nested pool message."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or cause.__context__
    return f"{exc.__class__.__name__}: {exc}"


class ToxiproxyClient:
    """Client for every route of the Toxiproxy 2.x HTTP API.

    Every call raises a `ToxiproxyError` subclass carrying the HTTP status and the server's
    message when it fails, and `ToxiproxyConnectionError` when the server does not answer.

    Args:
        url: Base URL of the API, e.g. ``http://127.0.0.1:8474``.
        timeout: Seconds to wait for each request (connect and read).
    """

    def __init__(self, url: str = "http://127.0.0.1:8474", timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = _USER_AGENT

    def close(self) -> None:
        """Close pooled HTTP connections."""
        self._session.close()

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ToxiproxyClient({self.url!r})"

    # -- transport -----------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        try:
            response = self._session.request(
                method, self.url + path, json=body, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ToxiproxyConnectionError(
                0, f"{method} {self.url}{path} failed: {_reason(exc)}"
            ) from exc
        status = response.status_code
        if status >= 400 or (status != expect and not 200 <= status < 300):
            raise error_for_status(status, self._message(response))
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ToxiproxyError(status, f"invalid JSON from {method} {path}: {exc}") from exc

    @staticmethod
    def _message(response: requests.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            return response.text.strip() or response.reason or "error"
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return str(data["error"])
        return response.text.strip()

    # -- server --------------------------------------------------------------------------
    def version(self) -> str:
        """The server's version, e.g. ``2.12.0``."""
        data = self._call("GET", "/version")
        return str(data["version"]) if isinstance(data, dict) else str(data)

    def reset(self) -> None:
        """Enable every proxy and remove every toxic."""
        self._call("POST", "/reset", expect=204)

    # -- proxies -------------------------------------------------------------------------
    def proxies(self) -> dict[str, Proxy]:
        """Every proxy, by name."""
        data = self._call("GET", "/proxies")
        return {name: Proxy.from_json(item) for name, item in (data or {}).items()}

    def get_proxy(self, name: str) -> Proxy:
        """One proxy.

        Raises:
            ToxiproxyNotFoundError: No such proxy.
        """
        return Proxy.from_json(self._call("GET", f"/proxies/{_seg(name)}"))

    def create_proxy(self, name: str, listen: str, upstream: str, enabled: bool = True) -> Proxy:
        """Create a proxy.

        Args:
            name: Unique name.
            listen: ``host:port`` to listen on; port 0 lets the server pick.
            upstream: ``host:port`` to forward to.
            enabled: Start listening right away.

        Raises:
            ToxiproxyConflictError: A proxy with that name exists.
            ToxiproxyServerError: The listen address cannot be bound.
        """
        body = ProxySpec(name, listen, upstream, enabled).to_json()
        return Proxy.from_json(self._call("POST", "/proxies", body, expect=201))

    def update_proxy(
        self,
        name: str,
        *,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> Proxy:
        """Change a proxy's listen address, upstream or enabled flag (others are kept)."""
        body: dict[str, Any] = {}
        if listen is not None:
            body["listen"] = listen
        if upstream is not None:
            body["upstream"] = upstream
        if enabled is not None:
            body["enabled"] = enabled
        return Proxy.from_json(self._call("PATCH", f"/proxies/{_seg(name)}", body))

    def enable(self, name: str) -> Proxy:
        """Let a proxy accept connections again."""
        return self.update_proxy(name, enabled=True)

    def disable(self, name: str) -> Proxy:
        """Take a proxy down: connects are refused and live connections closed."""
        return self.update_proxy(name, enabled=False)

    def delete_proxy(self, name: str) -> None:
        """Delete a proxy and close its connections."""
        self._call("DELETE", f"/proxies/{_seg(name)}", expect=204)

    def populate(self, proxies: Iterable[ProxySpec | Mapping[str, Any]]) -> list[Proxy]:
        """Create or replace many proxies; unchanged ones keep their toxics and connections.

        Raises:
            ToxiproxyError: Nothing after the failing proxy was applied.
        """
        body = [p.to_json() if isinstance(p, ProxySpec) else dict(p) for p in proxies]
        data = self._call("POST", "/populate", body, expect=201)
        return [Proxy.from_json(item) for item in (data or {}).get("proxies") or ()]

    # -- toxics --------------------------------------------------------------------------
    @overload
    def toxics(self, proxy: str) -> list[Toxic]: ...

    @overload
    def toxics(
        self, proxy: str, specs: Iterable[ToxicSpec]
    ) -> contextlib.AbstractContextManager[list[Toxic]]: ...

    def toxics(
        self, proxy: str, specs: Iterable[ToxicSpec] | None = None
    ) -> list[Toxic] | contextlib.AbstractContextManager[list[Toxic]]:
        """List a proxy's toxics, or, given `specs`, apply them for a ``with`` block.

        ``client.toxics("db")`` returns the toxics. ``with client.toxics("db", [spec, ...])
        as added:`` adds each spec and removes all of them when the block ends, even on error.
        """
        if specs is None:
            data = self._call("GET", f"/proxies/{_seg(proxy)}/toxics")
            return [Toxic.from_json(item) for item in data or ()]
        return self._applied(proxy, list(specs))

    @contextlib.contextmanager
    def _applied(self, proxy: str, specs: list[ToxicSpec]) -> Iterator[list[Toxic]]:
        added: list[Toxic] = []
        try:
            for spec in specs:
                added.append(self._add(proxy, spec))
            yield added
        finally:
            for toxic in reversed(added):
                self._remove_quietly(proxy, toxic.name)

    def _add(self, proxy: str, spec: ToxicSpec) -> Toxic:
        data = self._call("POST", f"/proxies/{_seg(proxy)}/toxics", spec.to_json())
        return Toxic.from_json(data)

    def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        stream: str = DOWNSTREAM,
        toxicity: float = 1.0,
        attributes: Attributes | None = None,
        name: str | None = None,
    ) -> Toxic:
        """Add a toxic to a proxy; it applies to live connections too.

        Args:
            proxy: Proxy name.
            type: Toxic type: latency, bandwidth, slow_close, timeout, reset_peer, slicer,
                limit_data or noop.
            stream: ``downstream`` (server to client) or ``upstream`` (client to server).
            toxicity: Probability that a connection gets the toxic.
            attributes: Type-specific settings, e.g. ``{"latency": 100}``.
            name: Name; defaults to ``<type>_<stream>``.

        Raises:
            ToxiproxyBadRequestError: Unknown type, bad stream or attribute.
            ToxiproxyConflictError: A toxic with that name exists on the proxy.
        """
        return self._add(proxy, ToxicSpec(type, stream, toxicity, attributes or {}, name))

    def get_toxic(self, proxy: str, name: str) -> Toxic:
        """One toxic of a proxy."""
        data = self._call("GET", f"/proxies/{_seg(proxy)}/toxics/{_seg(name)}")
        return Toxic.from_json(data)

    def toxic_stats(self, proxy: str, name: str) -> ToxicStats:
        """A toxic's fault witness: how often it fired (stormproof's embedded server only).

        Raises:
            ToxiproxyNotFoundError: No such proxy or toxic, or the server is a real Toxiproxy
                (it has no stats route).
        """
        data = self._call("GET", f"/proxies/{_seg(proxy)}/toxics/{_seg(name)}/stats")
        return ToxicStats.from_json(data)

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: Attributes | None = None,
        toxicity: float | None = None,
    ) -> Toxic:
        """Change some attributes (others are kept) and/or the toxicity of a toxic."""
        body: dict[str, Any] = {"attributes": dict(attributes or {})}
        if toxicity is not None:
            body["toxicity"] = toxicity
        data = self._call("PATCH", f"/proxies/{_seg(proxy)}/toxics/{_seg(name)}", body)
        return Toxic.from_json(data)

    def remove_toxic(self, proxy: str, name: str) -> None:
        """Remove a toxic."""
        self._call("DELETE", f"/proxies/{_seg(proxy)}/toxics/{_seg(name)}", expect=204)

    def _remove_quietly(self, proxy: str, name: str) -> None:
        # Gone already (reset, proxy deleted) is fine: the goal is that it is gone.
        with contextlib.suppress(ToxiproxyNotFoundError):
            self.remove_toxic(proxy, name)

    # -- context managers ----------------------------------------------------------------
    @contextlib.contextmanager
    def toxic(
        self,
        proxy: str,
        type: str,
        *,
        stream: str = DOWNSTREAM,
        toxicity: float = 1.0,
        attributes: Attributes | None = None,
        name: str | None = None,
    ) -> Iterator[Toxic]:
        """Apply one toxic for a ``with`` block; it is removed when the block ends."""
        added = self.add_toxic(
            proxy, type, stream=stream, toxicity=toxicity, attributes=attributes, name=name
        )
        try:
            yield added
        finally:
            self._remove_quietly(proxy, added.name)

    @contextlib.contextmanager
    def disabled(self, proxy: str) -> Iterator[Proxy]:
        """Take a proxy down for a ``with`` block, then restore its enabled state."""
        was_enabled = self.get_proxy(proxy).enabled
        down = self.disable(proxy)
        try:
            yield down
        finally:
            if was_enabled:
                with contextlib.suppress(ToxiproxyNotFoundError):
                    self.enable(proxy)
