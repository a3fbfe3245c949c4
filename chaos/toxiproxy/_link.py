"""One direction of one proxied connection: source socket, toxic chain, destination socket.

With no toxic the link is a pass-through: the source protocol writes straight into the
destination transport. A toxic added to a live link becomes the chain's head from the next
read on, so bytes already written are never reordered, and bytes held by a removed toxic are
handed to whatever follows it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING

from stormproof.chaos.toxiproxy._toxics import Chunk, Stage, Target, ToxicKind, Witness

if TYPE_CHECKING:
    from stormproof.chaos.toxiproxy._connection import Connection, Side
    from stormproof.chaos.toxiproxy._metrics import Labels, ProxyMetrics

PAUSED_BY_DEST = 1  # pass-through: the destination's write buffer is full
PAUSED_BY_CHAIN = 2  # toxics and the destination's buffer hold more than CHAIN_HIGH bytes

# Bytes a link with toxics may hold (in its toxics plus the destination's write buffer) before
# the source is paused. With toxics, a full destination does not pause the source by itself:
# a latency toxic would then leave a gap as long as its latency after every pause. Toxiproxy
# similarly buffers up to 1024 reads of 32 KiB per toxic.
CHAIN_HIGH = 32 * 1024 * 1024
CHAIN_LOW = CHAIN_HIGH // 2
# What a held chunk costs beyond its payload: its object, its bytes' header, its timestamps
# and its queue entry (160 bytes measured with tracemalloc, rounded up for the allocator).
# Counting it keeps a toxic that holds many small chunks inside the same bound as one that
# holds a few large ones.
CHUNK_COST = 192


class Link:
    """Moves bytes one way and is the sink at the end of its toxic chain."""

    __slots__ = (
        "coalesced",
        "conn",
        "direction",
        "dst",
        "dst_dead",
        "dst_full",
        "dst_write",
        "fast",
        "head",
        "in_done",
        "inflight",
        "labels",
        "live",
        "loop",
        "metrics",
        "out_done",
        "pause_flags",
        "received",
        "sent",
        "shortcut",
        "src",
        "stages",
    )

    def __init__(
        self,
        conn: Connection,
        direction: str,
        src: Side,
        dst: Side,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.conn = conn
        self.direction = direction
        self.src = src
        self.dst = dst
        self.loop = loop
        self.stages: list[Stage] = []
        self.head: Target = self
        self.fast = True
        # The head toxic's check on each read, when it has one (see Stage.shortcut).
        self.shortcut: Callable[[bytes], bool] | None = None
        self.dst_write = dst.transport.write
        self.dst_dead = False
        self.dst_full = False
        self.coalesced: bytearray | None = None
        self.inflight = 0
        self.pause_flags = 0
        self.in_done = False
        self.out_done = False
        self.live = False
        # Bytes read from the source and handed to the destination, for -proxy-metrics.
        self.received = 0
        self.sent = 0
        proxy = conn.proxy
        self.metrics: ProxyMetrics | None = proxy.metrics
        # Toxiproxy labels a link with its proxy's addresses as they were when it started.
        self.labels: Labels = (direction, proxy.name, proxy.listen, proxy.upstream)

    # -- source side ---------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Data read from the source, when the link is not a plain pass-through."""
        self.received += len(data)
        self.inflight += len(data) + CHUNK_COST
        self.head.push(Chunk(data, monotonic()))
        if self.held() > CHAIN_HIGH:
            self.pause(PAUSED_BY_CHAIN)

    def write_through(self, data: bytes) -> None:
        """Write a read the head toxic let go on straight to the destination (the chain holds
        nothing, so it overtakes nothing)."""
        size = len(data)
        self.received += size
        self.sent += size
        self.dst_write(data)
        if self.dst_full and self.held() > CHAIN_HIGH:
            self.pause(PAUSED_BY_CHAIN)

    def held(self) -> int:
        """What the link holds, in bytes: taken from the source, not yet handed to the kernel
        (each chunk in the chain counted with its overhead)."""
        if self.dst_dead:
            return self.inflight
        coalesced = len(self.coalesced) if self.coalesced is not None else 0
        return self.inflight + coalesced + self.dst.transport.get_write_buffer_size()

    def _maybe_resume_chain(self) -> None:
        if self.pause_flags & PAUSED_BY_CHAIN and self.held() < CHAIN_LOW:
            self.resume(PAUSED_BY_CHAIN)

    def source_ended(self, kind: str) -> None:
        """The source sent EOF (`kind` EOF) or its socket is gone (`kind` CLOSE)."""
        if not self.in_done:
            self.in_done = True
            if self.metrics is not None:
                self.metrics.add_received(self.labels, self.received)
            self.head.end(kind)

    # -- sink (end of the chain) ---------------------------------------------------------
    def push(self, chunk: Chunk) -> None:
        """Write a chunk that made it through the chain."""
        data = chunk.data
        self.inflight -= len(data) + CHUNK_COST
        if not self.out_done:
            self.sent += len(data)
            if self.coalesced is not None:
                self.coalesced += data
            elif self.dst.transport.get_write_buffer_size():
                # The transport queues writes behind a backlog and sends them in one writev,
                # so joining them changes nothing on the wire, and saves an object per piece.
                self.coalesced = bytearray(data)
                self.loop.call_soon(self._flush)
            else:
                self.dst_write(data)
        if self.pause_flags & PAUSED_BY_CHAIN:
            self._maybe_resume_chain()

    def _flush(self) -> None:
        data, self.coalesced = self.coalesced, None
        if data and not self.dst_dead:
            self.dst_write(data)

    def charge(self, chunks: int) -> None:
        """A toxic made `chunks` more chunks out of those it holds (it split one)."""
        self.inflight += chunks * CHUNK_COST

    def end(self, kind: str) -> None:
        """The chain's output ended."""
        if not self.out_done:
            self._flush()
            self.out_done = True
            self._count_sent()
            self.conn.link_ended(self, kind)

    def _count_sent(self) -> None:
        if self.metrics is not None:
            self.metrics.add_sent(self.labels, self.sent)

    def dropped(self, size: int, chunks: int = 1) -> None:
        """A toxic discarded `size` bytes (in `chunks` whole chunks)."""
        self.inflight -= size + chunks * CHUNK_COST
        if self.pause_flags & PAUSED_BY_CHAIN:
            self._maybe_resume_chain()

    # -- flow control --------------------------------------------------------------------
    def dest_paused(self) -> None:
        """The destination's write buffer went over its high-water mark."""
        self.dst_full = True
        if self.fast:
            self.pause(PAUSED_BY_DEST)

    def dest_resumed(self) -> None:
        """The destination's write buffer drained below its low-water mark."""
        self.dst_full = False
        self.resume(PAUSED_BY_DEST)
        if self.pause_flags & PAUSED_BY_CHAIN:
            self._maybe_resume_chain()

    def pause(self, reason: int) -> None:
        """Stop reading the source for `reason` (a PAUSED_BY_* flag)."""
        if not self.pause_flags:
            transport = self.src.transport
            if not transport.is_closing():
                transport.pause_reading()
        self.pause_flags |= reason

    def resume(self, reason: int) -> None:
        """Lift `reason`; read the source again when no reason is left."""
        if self.pause_flags & reason:
            self.pause_flags &= ~reason
            if not self.pause_flags:
                transport = self.src.transport
                if not transport.is_closing():
                    transport.resume_reading()

    # -- the chain -----------------------------------------------------------------------
    def add_stage(
        self,
        kind: ToxicKind,
        name: str,
        attrs: dict[str, int],
        toxicity: float,
        rng: random.Random,
        *,
        witness: Witness,
    ) -> None:
        """Append a toxic to the end of the chain."""
        if self.out_done:
            return
        stage = kind.stage(
            self,
            name=name,
            attrs=attrs,
            toxicity=toxicity,
            rng=rng,
            target=self,
            witness=witness,
        )
        if self.stages:
            self.stages[-1].next = stage
        else:
            self.head = stage
        self.stages.append(stage)
        self._chain_changed()
        self.fast = False
        self.resume(PAUSED_BY_DEST)

    def _chain_changed(self) -> None:
        for stage in self.stages:
            stage.chain_changed(self.stages)
        self.shortcut = self.stages[0].shortcut(self.stages) if self.stages else None

    def update_stage(self, name: str, attrs: dict[str, int], toxicity: float) -> None:
        """Reconfigure a toxic in place."""
        for stage in self.stages:
            if stage.name == name:
                stage.update(attrs, toxicity)
                return

    def remove_stage(self, name: str) -> None:
        """Take a toxic out, passing on whatever it held."""
        index = next((i for i, s in enumerate(self.stages) if s.name == name), None)
        if index is None:
            return
        stage = self.stages.pop(index)
        after = stage.next
        if index:
            self.stages[index - 1].next = after
        else:
            self.head = after
        self._chain_changed()  # before `after` takes what the removed toxic held
        chunks, end = stage.detach()
        for chunk in chunks:
            after.push(chunk)
        if end is not None:
            after.end(end)
        self.fast = not self.stages and not self.dst_dead and not self.in_done
        if self.fast:
            # The pass-through writes straight to the transport: joined bytes go first.
            self._flush()
            self.resume(PAUSED_BY_CHAIN)
            if self.dst_full:
                self.pause(PAUSED_BY_DEST)
        elif self.pause_flags & PAUSED_BY_CHAIN:
            self._maybe_resume_chain()

    def destination_lost(self) -> None:
        """The destination socket is gone: drop everything still in the chain."""
        self.dst_dead = True
        self.fast = False
        if not self.out_done:
            self.out_done = True
            self._count_sent()
        self.cancel()

    def cancel(self) -> None:
        """Stop every toxic's timers; they take no more input."""
        for stage in self.stages:
            stage.cancel()
            stage.out_closed = True
