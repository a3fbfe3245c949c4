"""The pieces every toxic is built from: chunks, stages, timed queues and attribute specs.

A link (one direction of one connection) runs its data through a chain of stages, one per
toxic, ending in a sink that writes to the destination socket. Stages are plain callbacks on
the event loop: ``push`` hands a chunk on, ``end`` hands on the end of the stream. A stage
whose toxicity roll failed forwards everything untouched, as Toxiproxy's noop stand-in does.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from time import monotonic
from typing import Any, ClassVar, Protocol

from stormproof.chaos.toxiproxy._toxics._timer import EARLY_MARGIN, Timer
from stormproof.chaos.toxiproxy._toxics._witness import Witness

# How a stream ends, as the sink carries it out on the destination socket:
EOF = "eof"  # the source closed cleanly: half-close the destination (FIN)
CLOSE = "close"  # a toxic ended the stream: close the destination socket
RESET = "reset"  # reset_peer: close both sockets with SO_LINGER 0 (RST)

MAX_MS = 2**31 - 1  # about 24.8 days; longer waits are almost surely a unit mistake
MAX_INT64 = 2**63 - 1


class Chunk:
    """Bytes read from the source in one go, with the time they were read."""

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes, ts: float) -> None:
        self.data = data
        self.ts = ts


class Target(Protocol):
    """Where a stage sends its output: the next stage or the link's sink."""

    def push(self, chunk: Chunk) -> None:
        """Take a chunk."""

    def end(self, kind: str) -> None:
        """Take the end of the stream."""


class LinkContext(Protocol):
    """What a stage needs from its link."""

    loop: asyncio.AbstractEventLoop
    live: bool  # the connection was already proxying when this toxic was added

    def dropped(self, size: int, chunks: int = 1) -> None:
        """Account for bytes a toxic discarded (in `chunks` whole chunks)."""

    def charge(self, chunks: int) -> None:
        """Account for `chunks` more chunks a toxic made by splitting one."""


class Stage:
    """One toxic on one link. Subclasses override the ``on_*`` hooks.

    Attributes:
        name: The toxic's name.
        active: Result of the toxicity roll; an inactive stage forwards everything.
        next: Where output goes; the link rewires it when toxics are added or removed.
        witness: The toxic's counters, shared with its stages on other links.
    """

    __slots__ = (
        "active",
        "attrs",
        "counted",
        "link",
        "name",
        "next",
        "out_closed",
        "replaying",
        "rng",
        "witness",
    )

    def __init__(
        self,
        link: LinkContext,
        *,
        name: str,
        attrs: dict[str, int],
        toxicity: float,
        rng: random.Random,
        target: Target,
        witness: Witness | None = None,
    ) -> None:
        self.link = link
        self.name = name
        self.attrs = attrs
        self.rng = rng
        self.next = target
        self.out_closed = False
        self.witness = witness if witness is not None else Witness()
        self.counted = False
        self.replaying = False
        self.active = rng.random() < toxicity
        self._count_roll()
        self.setup()
        self.configured()

    # -- interface used by the link ------------------------------------------------------
    def push(self, chunk: Chunk) -> None:
        """Take a chunk from the previous stage."""
        if self.out_closed:
            self.link.dropped(len(chunk.data))
        elif self.active:
            self.on_data(chunk)
        else:
            self.next.push(chunk)

    def end(self, kind: str) -> None:
        """Take the end of the stream from the previous stage."""
        if self.out_closed:
            return
        if self.active:
            self.on_end(kind)
        else:
            self.emit_end(kind)

    def update(self, attrs: dict[str, int], toxicity: float) -> None:
        """Apply new attributes and re-roll toxicity, keeping every byte already taken."""
        chunks, end = self.drain()
        self.attrs = attrs
        self.active = self.rng.random() < toxicity
        self._count_roll()
        self.configured()
        # What the stage held is handed back in again: it was counted when it first came.
        self.replaying = True
        try:
            for chunk in chunks:
                self.push(chunk)
            if end is not None:
                self.end(end)
        finally:
            self.replaying = False

    def detach(self) -> tuple[list[Chunk], str | None]:
        """Stop; return what must still go downstream (the toxic is being removed)."""
        if self.out_closed:
            self.drain()
            return [], None
        return self.drain()

    def cancel(self) -> None:
        """Stop all timers and drop buffered data (the connection is gone)."""
        self.drain()

    def _count_roll(self) -> None:
        # A link counts once, however many updates re-roll it active.
        if self.active and not self.counted:
            self.counted = True
            self.witness.connections += 1

    # -- helpers for subclasses ----------------------------------------------------------
    def record(self, size: int = 0) -> None:
        """Witness one action of this toxic touching `size` bytes."""
        if not self.replaying:
            self.witness.act(size)

    def record_bytes(self, size: int) -> None:
        """Witness `size` more bytes held or dropped by an action already counted."""
        if not self.replaying:
            self.witness.bytes += size

    def emit(self, chunk: Chunk) -> None:
        """Send a chunk on."""
        self.next.push(chunk)

    def emit_end(self, kind: str) -> None:
        """End this stage's output."""
        if not self.out_closed:
            self.out_closed = True
            chunks, _ = self.drain()
            for chunk in chunks:
                self.link.dropped(len(chunk.data))
            self.next.end(kind)

    # -- hooks ---------------------------------------------------------------------------
    def setup(self) -> None:
        """Create per-link state (timers, counters); called once, before `configured`."""

    def configured(self) -> None:
        """Called after creation and after every update."""

    def chain_changed(self, stages: list[Stage]) -> None:
        """The link's chain is now `stages` (a toxic was added or removed; this one included)."""

    def shortcut(self, stages: list[Stage]) -> Callable[[bytes], bool] | None:
        """For the head of `stages`: a check the link runs on each read before pushing it
        through the chain. It returns True when it took the read itself (wrote it straight to
        the destination, say), False when the read must go through the chain. None: no check."""
        return None

    def on_data(self, chunk: Chunk) -> None:
        """Handle a chunk while active (default: forward)."""
        self.emit(chunk)

    def on_end(self, kind: str) -> None:
        """Handle the end of the stream while active (default: forward)."""
        self.emit_end(kind)

    def drain(self) -> tuple[list[Chunk], str | None]:
        """Cancel timers; return buffered chunks and a held-back end of stream."""
        return [], None


class TimedStage(Stage):
    """A stage that releases chunks in order, each at a due time it computes on arrival."""

    __slots__ = ("pending_end", "queue", "timer")

    def setup(self) -> None:
        self.queue: deque[tuple[float, Chunk]] = deque()
        self.pending_end: str | None = None
        self.timer = Timer(self.link.loop, self._release_due)

    def schedule(self, due: float, chunk: Chunk) -> None:
        """Queue a chunk for release at `due` (due times must not decrease)."""
        self.queue.append((due, chunk))
        if not self.timer.armed:
            # A chunk into an idle stage (a request, a response) gets a precise release; the
            # chunks queued behind it in a busy stream are released at the next millisecond.
            self.timer.arm(due, precise=len(self.queue) == 1)

    def release(self, due: float, chunk: Chunk) -> None:
        """Send a due chunk on (subclasses may stamp it first)."""
        self.emit(chunk)

    def _release_due(self) -> None:
        queue = self.queue
        limit = monotonic() + EARLY_MARGIN
        while queue and queue[0][0] <= limit:
            due, chunk = queue.popleft()
            self.release(due, chunk)
            if self.out_closed:
                return
        if queue:
            self.timer.arm(queue[0][0], precise=False)
        elif self.pending_end is not None:
            kind, self.pending_end = self.pending_end, None
            self.emit_end(kind)

    def on_end(self, kind: str) -> None:
        if self.queue:
            self.pending_end = kind
        else:
            self.emit_end(kind)

    def drain(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        chunks = [chunk for _, chunk in self.queue]
        self.queue.clear()
        end, self.pending_end = self.pending_end, None
        self.reset_schedule()
        return chunks, end

    def reset_schedule(self) -> None:
        """Forget pacing state after a drain (chunks are re-pushed on update)."""


@dataclass(frozen=True)
class AttrSpec:
    """One integer attribute of a toxic type, with the range this server accepts.

    Attributes:
        name: The attribute's JSON name, e.g. ``latency``.
        go_type: Its Go type in Toxiproxy (``int64`` or ``int``), named in decode errors.
        minimum: Smallest accepted value.
        maximum: Largest accepted value.
        why: The unit, or why the bound exists, for error messages.
    """

    name: str
    go_type: str = "int64"
    minimum: int = 0
    maximum: int = MAX_MS
    why: str = ""


@dataclass(frozen=True)
class ToxicKind:
    """A toxic type: its attributes, how to check them, and its stage class.

    Attributes:
        type_name: The type as the API names it, e.g. ``slow_close``.
        go_struct: Toxiproxy's Go struct for it, named in decode errors.
        attrs: Its integer attributes, in Toxiproxy's field order.
        stage: What runs it on one link (internal).
        check: A check across attributes; returns a problem or None.
        parse: For a stormproof extension whose attributes are not all integers: merges JSON
            attributes over a base (or the defaults) and checks them (raises ApiError).
        witness: Makes the toxic's counters.
        both_links: It runs on both links of a connection whatever its stream (HTTP toxics).
        json_schema: For an extension with `parse`: the JSON Schema of its attributes object.
    """

    type_name: str
    go_struct: str
    attrs: tuple[AttrSpec, ...]
    stage: type[Stage]
    check: Callable[[dict[str, int]], str | None] | None = None
    parse: Callable[[object, Mapping[str, Any] | None], dict[str, Any]] | None = None
    witness: Callable[[], Witness] = Witness
    both_links: bool = False
    json_schema: Callable[[], dict[str, Any]] | None = None

    registry: ClassVar[dict[str, ToxicKind]] = {}

    def defaults(self) -> dict[str, int]:
        """Attributes of a toxic created without any (all zero, as in Go)."""
        if self.parse is not None:
            return self.parse(None, None)
        return {spec.name: 0 for spec in self.attrs}
