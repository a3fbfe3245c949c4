"""A proxy of the embedded server: its listener, live connections and toxic chains."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stormproof.chaos.toxiproxy._addr import bind_listener, bound_address, resolve, split_host_port
from stormproof.chaos.toxiproxy._connection import DOWNSTREAM, UPSTREAM, ClientSide
from stormproof.chaos.toxiproxy._toxics import ToxicKind, Witness

if TYPE_CHECKING:
    from stormproof.chaos.toxiproxy._connection import Connection
    from stormproof.chaos.toxiproxy._link import Link
    from stormproof.chaos.toxiproxy._metrics import ProxyMetrics

log = logging.getLogger("stormproof.toxiproxy")

RngFactory = Callable[[str, str, str, int], random.Random]


@dataclass
class ToxicState:
    """A toxic as configured on a proxy (the API's view, shared by all its links)."""

    name: str
    kind: ToxicKind
    stream: str  # as the client spelled it; Toxiproxy echoes it back unchanged
    direction: str  # "upstream" or "downstream"
    toxicity: float
    attrs: dict[str, int]
    witness: Witness = field(init=False)
    _links_given: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.witness = self.kind.witness()

    def next_link_number(self, direction: str) -> int:
        """Number the next link (1, 2, ...) this toxic runs on, counted per direction."""
        self._links_given[direction] = number = self._links_given.get(direction, 0) + 1
        return number

    def to_json(self) -> dict[str, Any]:
        """The toxic's JSON object, fields in Toxiproxy's order."""
        return {
            "attributes": dict(self.attrs),
            "name": self.name,
            "type": self.kind.type_name,
            "stream": self.stream,
            "toxicity": self.toxicity,
        }

    def stats_json(self) -> dict[str, Any]:
        """The toxic's witness counters, as ``GET .../toxics/{toxic}/stats`` shows them."""
        return {
            "name": self.name,
            "type": self.kind.type_name,
            "stream": self.stream,
            "connections": self.witness.connections,
            "acted": self.witness.acted,
            "bytes": self.witness.bytes,
            **self.witness.extra(),
        }


class ProxyState:
    """One proxy: listens when enabled and runs every accepted connection through its toxics."""

    def __init__(
        self,
        name: str,
        listen: str,
        upstream: str,
        loop: asyncio.AbstractEventLoop,
        rng_for: RngFactory,
        *,
        metrics: ProxyMetrics | None = None,
    ) -> None:
        self.name = name
        self.metrics = metrics
        self.listen = listen
        self.upstream = upstream
        self.upstream_addr = split_host_port(upstream)
        self.enabled = False
        self.loop = loop
        self.rng_for = rng_for
        self.chains: dict[str, list[ToxicState]] = {UPSTREAM: [], DOWNSTREAM: []}
        self.connections: set[Connection] = set()
        self._listener: asyncio.Server | None = None
        self._next_cid = 0

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on `listen` (which becomes the bound address, e.g. the picked port).

        Raises:
            ApiError: The address does not parse, resolve or bind.
        """
        family, sockaddr, shown = await resolve(self.listen)
        sock = bind_listener(family, sockaddr, shown)
        try:
            self._listener = await self.loop.create_server(
                lambda: ClientSide(self), sock=sock, backlog=1024
            )
        except OSError:
            sock.close()
            raise
        self.listen = bound_address(sock)
        self.enabled = True
        log.info(
            "started proxy",
            extra={
                "event": "proxy.started",
                "proxy": self.name,
                "listen": self.listen,
                "upstream": self.upstream,
            },
        )

    def stop(self) -> None:
        """Stop listening and close every live connection."""
        if not self.enabled:
            return
        self.enabled = False
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for conn in list(self.connections):
            conn.shutdown()
        log.info(
            "terminated proxy",
            extra={"event": "proxy.stopped", "proxy": self.name, "listen": self.listen},
        )

    async def differs(self, listen: str, upstream: str) -> bool:
        """Whether `listen`/`upstream` differ from this proxy's (listen compared resolved)."""
        _, _, shown = await resolve(listen)
        return self.listen != shown or self.upstream != upstream

    def set_upstream(self, upstream: str) -> None:
        """Change the upstream (applies to new connections)."""
        self.upstream_addr = split_host_port(upstream)
        self.upstream = upstream

    # -- connections ---------------------------------------------------------------------
    def register(self, conn: Connection) -> int:
        """Track a new connection; returns its number (1, 2, ...) on this proxy."""
        self._next_cid += 1
        self.connections.add(conn)
        if not self.enabled:
            self.loop.call_soon(conn.shutdown)
        return self._next_cid

    def unregister(self, conn: Connection) -> None:
        """Forget a finished connection."""
        self.connections.discard(conn)

    def start_links(self, conn: Connection) -> None:
        """Give a new connection's links the current toxics."""
        for link in (conn.up, conn.down):
            if link is not None:
                for toxic in self.toxics():
                    if toxic.direction == link.direction or toxic.kind.both_links:
                        self._add_to_link(link, toxic)

    def _add_to_link(self, link: Link, toxic: ToxicState) -> None:
        # Numbered by the toxic's own links, not the proxy's connections: a seeded toxic
        # rolls the same whatever connections earlier toxics (or scenarios) saw.
        number = toxic.next_link_number(link.direction)
        rng = self.rng_for(self.name, toxic.name, link.direction, number)
        link.add_stage(
            toxic.kind, toxic.name, toxic.attrs, toxic.toxicity, rng, witness=toxic.witness
        )

    def _links(self, toxic: ToxicState) -> list[Link]:
        """The links a toxic runs on: those of its direction, or both (request side first)."""
        both = toxic.kind.both_links
        links = []
        for conn in sorted(self.connections, key=lambda conn: conn.cid):
            for link in (conn.up, conn.down):
                if link is not None and (both or link.direction == toxic.direction):
                    links.append(link)
        return links

    # -- toxics --------------------------------------------------------------------------
    def find_toxic(self, name: str) -> ToxicState | None:
        """The toxic called `name`, in either direction."""
        for chain in self.chains.values():
            for toxic in chain:
                if toxic.name == name:
                    return toxic
        return None

    def toxics(self) -> list[ToxicState]:
        """All toxics, upstream chain first, as Toxiproxy lists them."""
        return [*self.chains[UPSTREAM], *self.chains[DOWNSTREAM]]

    def add_toxic(self, toxic: ToxicState) -> None:
        """Append a toxic to its chain and to every live link in its direction."""
        self.chains[toxic.direction].append(toxic)
        for link in self._links(toxic):
            self._add_to_link(link, toxic)

    def update_toxic(self, toxic: ToxicState, attrs: dict[str, int], toxicity: float) -> None:
        """Reconfigure a toxic everywhere it runs."""
        toxic.attrs = attrs
        toxic.toxicity = toxicity
        for link in self._links(toxic):
            link.update_stage(toxic.name, attrs, toxicity)

    def remove_toxic(self, toxic: ToxicState) -> None:
        """Remove a toxic everywhere; what it held goes on downstream."""
        self.chains[toxic.direction].remove(toxic)
        for link in self._links(toxic):
            link.remove_stage(toxic.name)

    def reset_toxics(self) -> None:
        """Remove every toxic."""
        for toxic in self.toxics():
            self.remove_toxic(toxic)

    def to_json(self) -> dict[str, Any]:
        """The proxy's JSON object with its toxics, as ``GET /proxies/{proxy}`` shows it."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            # Toxiproxy 2.12 leaks its exported zerolog field into the JSON; kept for parity.
            "Logger": {},
            "toxics": [toxic.to_json() for toxic in self.toxics()],
        }
