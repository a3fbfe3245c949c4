"""The server's proxies and every operation the HTTP API offers on them.

Semantics follow Toxiproxy 2.12 (``proxy_collection.go``, ``toxic_collection.go``,
``api.go``); the deliberate differences are stricter checks that answer 400 where
Toxiproxy would crash, stall or accept nonsense.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

from stormproof.chaos.toxiproxy import _jsonio as j
from stormproof.chaos.toxiproxy._addr import AddressError, split_host_port
from stormproof.chaos.toxiproxy._api_error import (
    BAD_REQUEST_BODY,
    INVALID_STREAM,
    INVALID_TOXIC_TYPE,
    MISSING_FIELD,
    PROXY_ALREADY_EXISTS,
    PROXY_NOT_FOUND,
    TOXIC_ALREADY_EXISTS,
    TOXIC_NOT_FOUND,
    ApiError,
)
from stormproof.chaos.toxiproxy._connection import DOWNSTREAM, UPSTREAM
from stormproof.chaos.toxiproxy._metrics import ProxyMetrics
from stormproof.chaos.toxiproxy._proxy import ProxyState, ToxicState
from stormproof.chaos.toxiproxy._toxics import KINDS, parse_attributes

log = logging.getLogger("stormproof.toxiproxy")

_UPDATE_TOXIC_STRUCT = (
    'struct { Attributes interface {} "json:\\"attributes\\""; '
    'Toxicity float32 "json:\\"toxicity\\"" }'
)


def _check_upstream(upstream: str, where: str = "") -> None:
    try:
        split_host_port(upstream)
    except AddressError as exc:
        raise ApiError(f"invalid upstream{where}: {exc}", 400) from None


# A name must come back through a URL path segment: percent-encoded (up to 3 bytes per UTF-8
# byte) it fits the API's request-line limit twice over, with room for the route around it.
MAX_NAME_BYTES = 64 * 1024


def _check_name(name: str, what: str) -> None:
    """Refuse a name no later request could address (Toxiproxy creates it, then 404s on it)."""
    if name in {".", ".."}:
        raise ApiError(f"invalid {what} name {name!r}: it cannot be addressed in a URL path", 400)
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise ApiError(
            f"invalid {what} name: {size} bytes, at most {MAX_NAME_BYTES} fit in a URL", 400
        )


def _check_toxicity(toxicity: float) -> None:
    if not 0.0 <= toxicity <= 1.0:
        raise ApiError(f"toxicity must be between 0 and 1, got {toxicity:g}", 400)


class ProxyCollection:
    """Every proxy of one server, changed only through these methods (one at a time)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        seed: int | None,
        metrics: ProxyMetrics | None = None,
    ) -> None:
        self.loop = loop
        self.seed = seed
        self.metrics = metrics
        self._entropy = random.Random(seed)
        self.proxies: dict[str, ProxyState] = {}
        self.lock = asyncio.Lock()

    def rng_for(self, proxy: str, toxic: str, direction: str, number: int) -> random.Random:
        """The random source of one toxic on its `number`-th link in `direction`.

        With a seed, it depends only on the seed, the proxy, the toxic, the direction and how
        many links the toxic ran on before, so the toxic's n-th connection rolls the same
        toxicity and jitter whatever other connections the proxy saw before or beside it.
        """
        if self.seed is None:
            return random.Random(self._entropy.getrandbits(64))
        return random.Random(f"{self.seed}/{proxy}/{toxic}/{direction}/{number}")

    def get(self, name: str) -> ProxyState:
        """The proxy called `name`.

        Raises:
            ApiError: 404 proxy not found.
        """
        proxy = self.proxies.get(name)
        if proxy is None:
            raise PROXY_NOT_FOUND
        return proxy

    def _new(self, name: str, listen: str, upstream: str) -> ProxyState:
        return ProxyState(name, listen, upstream, self.loop, self.rng_for, metrics=self.metrics)

    # -- proxies -------------------------------------------------------------------------
    async def create(self, body: Any) -> ProxyState:
        """``POST /proxies``."""
        obj = j.expect_object(body, "toxiproxy.Proxy")
        name = j.get_str(obj, "name", "Proxy.name", "")
        listen = j.get_str(obj, "listen", "Proxy.listen", "")
        upstream = j.get_str(obj, "upstream", "Proxy.upstream", "")
        enabled = j.get_bool(obj, "enabled", "Proxy.enabled", True)
        if not name:
            raise MISSING_FIELD.joined("name")
        if not upstream:
            raise MISSING_FIELD.joined("upstream")
        _check_name(name, "proxy")
        _check_upstream(upstream)
        async with self.lock:
            if name in self.proxies:
                raise PROXY_ALREADY_EXISTS
            return await self._install(name, listen, upstream, enabled)

    async def update(self, name: str, body: Any) -> ProxyState:
        """``POST``/``PATCH /proxies/{proxy}``: listen, upstream and enabled, others kept."""
        async with self.lock:
            proxy = self.get(name)
            obj = j.expect_object(body, "toxiproxy.Proxy")
            listen = j.get_str(obj, "listen", "Proxy.listen", proxy.listen)
            upstream = j.get_str(obj, "upstream", "Proxy.upstream", proxy.upstream)
            enabled = j.get_bool(obj, "enabled", "Proxy.enabled", proxy.enabled)
            if not upstream:
                raise MISSING_FIELD.joined("upstream")
            _check_upstream(upstream)
            if await proxy.differs(listen, upstream):
                proxy.stop()
                proxy.listen = listen
                proxy.set_upstream(upstream)
            if enabled != proxy.enabled:
                if enabled:
                    await proxy.start()
                else:
                    proxy.stop()
        log.info(
            "updated proxy",
            extra={
                "event": "proxy.updated",
                "proxy": name,
                "listen": proxy.listen,
                "upstream": proxy.upstream,
                "enabled": proxy.enabled,
            },
        )
        return proxy

    async def delete(self, name: str) -> None:
        """``DELETE /proxies/{proxy}``."""
        async with self.lock:
            proxy = self.get(name)
            proxy.stop()
            del self.proxies[name]
        log.info("deleted proxy", extra={"event": "proxy.deleted", "proxy": name})

    async def populate(self, body: Any) -> tuple[list[ProxyState], ApiError | None]:
        """``POST /populate``: create or replace many; unchanged proxies keep their toxics.

        Returns:
            The proxies handled before any failure, and the failure (None when all worked).
        """
        if not isinstance(body, list):
            raise BAD_REQUEST_BODY.joined(
                f"json: cannot unmarshal {j.json_kind(body)} into Go value of type "
                '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }'
            )
        specs: list[tuple[str, str, str, bool]] = []
        for index, item in enumerate(body, start=1):
            obj = j.expect_object(item, "toxiproxy.Proxy")
            name = j.get_str(obj, "name", "Proxy.name", "")
            listen = j.get_str(obj, "listen", "Proxy.listen", "")
            upstream = j.get_str(obj, "upstream", "Proxy.upstream", "")
            enabled = j.get_bool(obj, "enabled", ".enabled", True)
            if not name:
                raise MISSING_FIELD.joined(f"name at proxy {index}")
            if not upstream:
                raise MISSING_FIELD.joined(f"upstream at proxy {index}")
            _check_name(name, "proxy")
            _check_upstream(upstream, f" at proxy {index}")
            specs.append((name, listen, upstream, enabled))
        done: list[ProxyState] = []
        async with self.lock:
            for name, listen, upstream, enabled in specs:
                try:
                    done.append(await self._add_or_replace(name, listen, upstream, enabled))
                except ApiError as exc:
                    return done, exc
        log.info(
            "populated proxies",
            extra={"event": "proxy.populated", "proxies": [p.name for p in done]},
        )
        return done, None

    async def _add_or_replace(
        self, name: str, listen: str, upstream: str, enabled: bool
    ) -> ProxyState:
        existing = self.proxies.get(name)
        if existing is not None:
            if not await existing.differs(listen, upstream):
                return existing
            existing.stop()
        return await self._install(name, listen, upstream, enabled)

    async def _install(self, name: str, listen: str, upstream: str, enabled: bool) -> ProxyState:
        """Create, start (if enabled) and register a proxy; the caller holds the lock."""
        proxy = self._new(name, listen, upstream)
        if enabled:
            await proxy.start()
        self.proxies[name] = proxy
        log.info(
            "created proxy",
            extra={
                "event": "proxy.created",
                "proxy": name,
                "listen": proxy.listen,
                "upstream": upstream,
                "enabled": proxy.enabled,
            },
        )
        return proxy

    async def reset(self) -> None:
        """``POST /reset``: enable every proxy and remove every toxic."""
        async with self.lock:
            for proxy in list(self.proxies.values()):
                if not proxy.enabled:
                    await proxy.start()
                proxy.reset_toxics()
        log.info("reset all proxies", extra={"event": "proxies.reset"})

    async def clear(self) -> None:
        """Stop and forget every proxy (server shutdown)."""
        async with self.lock:
            for proxy in self.proxies.values():
                proxy.stop()
            self.proxies.clear()

    # -- toxics --------------------------------------------------------------------------
    async def add_toxic(self, proxy_name: str, body: Any) -> ToxicState:
        """``POST /proxies/{proxy}/toxics``."""
        async with self.lock:
            proxy = self.get(proxy_name)
            obj = j.expect_object(body, "toxics.ToxicWrapper")
            stream = j.get_str(obj, "stream", "ToxicWrapper.stream", DOWNSTREAM)
            toxicity = j.get_float(obj, "toxicity", "ToxicWrapper.toxicity", 1.0)
            type_name = j.get_str(obj, "type", "ToxicWrapper.type", "")
            name = j.get_str(obj, "name", "ToxicWrapper.name", "")
            direction = stream.lower()
            if direction not in (UPSTREAM, DOWNSTREAM):
                raise INVALID_STREAM
            if not name:
                name = f"{type_name}_{stream}"
            kind = KINDS.get(type_name)
            if kind is None:
                raise INVALID_TOXIC_TYPE
            _check_name(name, "toxic")
            if proxy.find_toxic(name) is not None:
                raise TOXIC_ALREADY_EXISTS
            attrs = parse_attributes(kind, j.field(obj, "attributes"))
            _check_toxicity(toxicity)
            toxic = ToxicState(name, kind, stream, direction, toxicity, attrs)
            proxy.add_toxic(toxic)
        log.info(
            "added toxic",
            extra={
                "event": "toxic.added",
                "proxy": proxy_name,
                "toxic": name,
                "type": type_name,
                "stream": stream,
                "toxicity": toxicity,
                "attributes": attrs,
            },
        )
        return toxic

    async def update_toxic(self, proxy_name: str, toxic_name: str, body: Any) -> ToxicState:
        """``POST``/``PATCH /proxies/{proxy}/toxics/{toxic}``: attributes merge, toxicity."""
        async with self.lock:
            proxy = self.get(proxy_name)
            toxic = proxy.find_toxic(toxic_name)
            if toxic is None:
                raise TOXIC_NOT_FOUND
            obj = j.expect_object(body, _UPDATE_TOXIC_STRUCT)
            toxicity = j.get_float(obj, "toxicity", ".toxicity", toxic.toxicity)
            attrs = parse_attributes(toxic.kind, j.field(obj, "attributes"), toxic.attrs)
            _check_toxicity(toxicity)
            proxy.update_toxic(toxic, attrs, toxicity)
        log.info(
            "updated toxic",
            extra={
                "event": "toxic.updated",
                "proxy": proxy_name,
                "toxic": toxic_name,
                "toxicity": toxicity,
                "attributes": attrs,
            },
        )
        return toxic

    async def remove_toxic(self, proxy_name: str, toxic_name: str) -> None:
        """``DELETE /proxies/{proxy}/toxics/{toxic}``."""
        async with self.lock:
            proxy = self.get(proxy_name)
            toxic = proxy.find_toxic(toxic_name)
            if toxic is None:
                raise TOXIC_NOT_FOUND
            proxy.remove_toxic(toxic)
        log.info(
            "removed toxic",
            extra={"event": "toxic.removed", "proxy": proxy_name, "toxic": toxic_name},
        )
