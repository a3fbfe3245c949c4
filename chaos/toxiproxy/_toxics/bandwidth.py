"""bandwidth: limits the stream to ``rate`` KB/s (1 KB = 1000 bytes).

Like Toxiproxy, large chunks go out in slices of ``rate * 100`` bytes (100 ms worth) and
each slice is released when its last byte would have crossed the wire.
"""

from __future__ import annotations

from collections import deque
from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import (
    MAX_INT64,
    AttrSpec,
    Chunk,
    Stage,
    ToxicKind,
)
from stormproof.chaos.toxiproxy._toxics._timer import EARLY_MARGIN, Timer


class BandwidthStage(Stage):
    """Paces chunks to the configured rate, cutting each slice only when it is due.

    A held chunk stays one object: at 1 KB/s, slices of 100 bytes made up front cost three
    times the bytes they carry.
    """

    __slots__ = ("current", "cursor", "due", "offset", "pending_end", "queue", "timer")

    def setup(self) -> None:
        self.queue: deque[tuple[float, Chunk]] = deque()  # (arrival, chunk) waiting their turn
        self.current: Chunk | None = None
        self.offset = 0  # bytes of `current` already sent on
        self.due = 0.0  # when the next slice of `current` is due
        self.pending_end: str | None = None
        self.timer = Timer(self.link.loop, self._release)

    def configured(self) -> None:
        self.cursor = 0.0  # when the wire is free after the last slice released

    def on_data(self, chunk: Chunk) -> None:
        self.record(len(chunk.data))
        self.queue.append((monotonic(), chunk))
        if self.current is None and len(self.queue) == 1:
            self._release()

    def _slice_time(self, size: int) -> float:
        return size / (self.attrs["rate"] * 1000.0)

    def _release(self) -> None:
        slice_size = self.attrs["rate"] * 100
        limit = monotonic() + EARLY_MARGIN
        while self.current is not None or self.queue:
            chunk = self.current
            if chunk is None:
                arrival, chunk = self.queue.popleft()
                self.current, self.offset = chunk, 0
                first = min(slice_size, len(chunk.data))
                self.due = max(arrival, self.cursor) + self._slice_time(first)
            if self.due > limit:
                self.timer.arm(self.due, precise=self.offset == 0)
                return
            data = chunk.data
            if self.offset == 0 and len(data) <= slice_size:
                piece = chunk
            else:
                piece = Chunk(data[self.offset : self.offset + slice_size], chunk.ts)
            self.offset += len(piece.data)
            if self.offset < len(data):
                self.link.charge(1)  # the last slice inherits the chunk's own count
                self.due += self._slice_time(min(slice_size, len(data) - self.offset))
            else:
                self.current = None
                self.cursor = self.due
            self.emit(piece)
            if self.out_closed:
                return
        if self.pending_end is not None:
            kind, self.pending_end = self.pending_end, None
            self.emit_end(kind)

    def on_end(self, kind: str) -> None:
        if self.current is not None or self.queue:
            self.pending_end = kind
        else:
            self.emit_end(kind)

    def drain(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        chunks = []
        if self.current is not None:
            chunks.append(Chunk(self.current.data[self.offset :], self.current.ts))
        chunks += [chunk for _, chunk in self.queue]
        self.current = None
        self.queue.clear()
        end, self.pending_end = self.pending_end, None
        self.cursor = 0.0
        return chunks, end


KIND = ToxicKind(
    "bandwidth",
    "BandwidthToxic",
    (
        AttrSpec(
            "rate",
            minimum=1,
            maximum=MAX_INT64 // 1000,
            why="KB/s; 0 would stall every connection forever",
        ),
    ),
    BandwidthStage,
)
