"""A proxied TCP connection: the accepted client socket, the upstream socket, two links.

Ends of stream follow TCP: a clean EOF from one peer half-closes the other (FIN), and the
connection closes once both directions have ended. A toxic that ends a stream (timeout,
limit_data) closes the destination socket, which in turn ends the opposite direction, as in
Toxiproxy. reset_peer aborts both sockets with SO_LINGER 0 so both peers see a TCP RST.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from typing import TYPE_CHECKING, cast

from stormproof.chaos.toxiproxy._link import Link
from stormproof.chaos.toxiproxy._toxics import CLOSE, EOF, RESET

if TYPE_CHECKING:
    from stormproof.chaos.toxiproxy._proxy import ProxyState

log = logging.getLogger("stormproof.toxiproxy")

_LINGER_ZERO = struct.pack("ii", 1, 0)
# Seconds a closing socket may take to flush its write buffer before it is aborted: generous
# for a normal close (a slow reader still gets every byte), short when the proxy is shut down.
_CLOSE_GRACE = 60.0
_SHUTDOWN_GRACE = 1.0
UPSTREAM = "upstream"
DOWNSTREAM = "downstream"


class Side(asyncio.Protocol):
    """One socket of a connection; reads feed `link_in`, writes come from `link_out`."""

    __slots__ = ("conn", "early", "early_eof", "link_in", "link_out", "lost", "transport")

    def __init__(self, conn: Connection | None) -> None:
        self.conn = cast("Connection", conn)
        self.transport = cast("asyncio.Transport", None)
        self.link_in: Link | None = None
        self.link_out: Link | None = None
        self.lost = False
        # Bytes and EOF that came before the links existed (uvloop starts reading right
        # after connection_made, so pausing there is not enough).
        self.early: list[bytes] = []
        self.early_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        link = self.link_in
        if link is None:
            self.early.append(data)
            self.transport.pause_reading()
            return
        if link.fast:
            size = len(data)
            link.received += size
            link.sent += size
            link.dst_write(data)
        elif link.shortcut is None or not link.shortcut(data):
            link.feed(data)

    def eof_received(self) -> bool:
        if self.link_in is not None:
            self.link_in.source_ended(EOF)
        else:
            self.early_eof = True
        return True  # keep our write side open: TCP half-close

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.conn.side_lost(self)

    def pause_writing(self) -> None:
        if self.link_out is not None:
            self.link_out.dest_paused()

    def resume_writing(self) -> None:
        if self.link_out is not None:
            self.link_out.dest_resumed()


class ClientSide(Side):
    """The accepted socket; it opens the upstream connection when accepted."""

    __slots__ = ("proxy",)

    def __init__(self, proxy: ProxyState) -> None:
        super().__init__(None)
        self.proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport.pause_reading()
        self.conn = Connection(self.proxy, self)


class Connection:
    """Both sockets and both links of one proxied connection."""

    __slots__ = (
        "cid",
        "client",
        "closing",
        "connecting",
        "down",
        "finished",
        "loop",
        "peer",
        "proxy",
        "task",
        "up",
        "upstream",
    )

    def __init__(self, proxy: ProxyState, client: ClientSide) -> None:
        self.proxy = proxy
        self.client = client
        self.loop = proxy.loop
        self.upstream: Side | None = None
        self.up: Link | None = None
        self.down: Link | None = None
        self.closing = False
        self.connecting = True
        self.finished = False
        self.cid = proxy.register(self)
        peer = client.transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        log.info(
            "accepted client",
            extra={
                "event": "connection.accepted",
                "proxy": proxy.name,
                "client": self.peer,
                "connection": self.cid,
                "upstream": proxy.upstream,
            },
        )
        self.task = self.loop.create_task(self._connect_upstream())

    async def _connect_upstream(self) -> None:
        host, port = self.proxy.upstream_addr
        host = host or "localhost"  # Go dials the local system for ":port"
        side = Side(self)
        try:
            await self.loop.create_connection(lambda: side, host, port)
        except (OSError, asyncio.CancelledError, ValueError) as exc:
            self.connecting = False
            log.warning(
                "unable to open connection to upstream",
                extra={
                    "event": "connection.upstream_failed",
                    "proxy": self.proxy.name,
                    "client": self.peer,
                    "connection": self.cid,
                    "upstream": self.proxy.upstream,
                    "error": str(exc),
                },
            )
            self._close_transport(self.client)
            self._maybe_finished()
            return
        self.connecting = False
        self._attach(side)

    def _attach(self, side: Side) -> None:
        self.upstream = side
        if self.closing or self.client.lost:
            self._close_transport(side)
            return
        self.up = up = Link(self, UPSTREAM, self.client, side, self.loop)
        self.down = down = Link(self, DOWNSTREAM, side, self.client, self.loop)
        self.client.link_in = side.link_out = up
        side.link_in = self.client.link_out = down
        self.proxy.start_links(self)
        up.live = down.live = True
        self._flush_early(side, down)
        self._flush_early(self.client, up)

    @staticmethod
    def _flush_early(side: Side, link: Link) -> None:
        early, side.early = side.early, []
        for data in early:
            side.data_received(data)
        if side.early_eof:
            link.source_ended(EOF)
        elif not side.transport.is_closing():
            side.transport.resume_reading()

    def link_ended(self, link: Link, kind: str) -> None:
        """A link's chain ended its output with `kind` (EOF, CLOSE or RESET)."""
        if kind == RESET:
            self.reset()
            return
        other = self.down if link is self.up else self.up
        if kind == EOF and not link.dst_dead:
            if other is not None and other.out_done:
                self.close()
            elif link.dst.transport.can_write_eof():
                link.dst.transport.write_eof()
            return
        self._close_transport(link.dst)
        if other is not None:
            other.source_ended(CLOSE)

    def side_lost(self, side: Side) -> None:
        """A socket is gone (closed by us or reset by its peer)."""
        if side.link_out is not None:
            side.link_out.destination_lost()
        toward_other = side.link_in
        if toward_other is not None:
            toward_other.source_ended(CLOSE)
            if toward_other.out_done and not toward_other.dst_dead:
                # The other peer already had its EOF; with this socket gone nothing it sends can
                # be delivered, so close it rather than swallow its bytes.
                self._close_transport(toward_other.dst)
        self._maybe_finished()

    def _maybe_finished(self) -> None:
        upstream = self.upstream
        if self.finished or self.connecting or not self.client.lost:
            return
        if upstream is None or upstream.lost:
            self.finished = True
            self.proxy.unregister(self)
            log.info(
                "connection closed",
                extra={
                    "event": "connection.closed",
                    "proxy": self.proxy.name,
                    "client": self.peer,
                    "connection": self.cid,
                },
            )
        else:
            self.closing = True

    def close(self) -> None:
        """Close both sockets, flushing what was already written to them."""
        self.closing = True
        for side in (self.client, self.upstream):
            if side is not None:
                self._close_transport(side)

    def shutdown(self) -> None:
        """Close at once (proxy disabled or deleted): toxics stop, held bytes are dropped."""
        self.closing = True
        for link in (self.up, self.down):
            if link is not None:
                link.cancel()
        for side in (self.client, self.upstream):
            if side is not None:
                self._close_transport(side, _SHUTDOWN_GRACE)

    def reset(self) -> None:
        """Abort both sockets with SO_LINGER 0: the peers get a TCP RST."""
        self.closing = True
        for link in (self.up, self.down):
            if link is not None:
                link.cancel()
        for side in (self.client, self.upstream):
            if side is None or side.lost:
                continue
            sock = side.transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            side.transport.abort()

    def _close_transport(self, side: Side, grace: float = _CLOSE_GRACE) -> None:
        transport = side.transport
        if side.lost:
            return
        if not transport.is_closing():
            transport.close()
        if transport.get_write_buffer_size():
            # A peer that never reads would keep a flushing transport open forever.
            self.loop.call_later(grace, self._abort_if_open, side)

    @staticmethod
    def _abort_if_open(side: Side) -> None:
        if not side.lost:
            side.transport.abort()
