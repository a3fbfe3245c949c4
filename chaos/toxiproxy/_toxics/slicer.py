"""slicer: cuts each chunk into pieces of about ``average_size`` bytes.

Piece sizes vary by up to ``size_variation`` bytes, and ``delay`` microseconds pass between
pieces. The cutting follows Toxiproxy's recursive halving, done lazily: a held chunk stays one
object and each piece is cut when it is due, so 1-byte slices of megabytes held behind a long
delay cost what the megabytes cost, not an object per byte.
"""

from __future__ import annotations

import random
from collections import deque
from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import AttrSpec, Chunk, Stage, ToxicKind
from stormproof.chaos.toxiproxy._toxics._timer import EARLY_MARGIN, Timer

_MAX_INT = 2**31 - 1


class _Cut:
    """One chunk being cut: the ranges still to cut, leftmost on top (depth ~log2 size)."""

    __slots__ = ("chunk", "done", "stack")

    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.stack = [(0, len(chunk.data))]
        self.done = 0  # bytes already cut off the front

    def next_piece(self, average: int, variation: int, rng: random.Random) -> Chunk:
        """The next piece, in order; the same cuts and random draws as cutting all at once."""
        stack = self.stack
        while True:
            start, end = stack.pop()
            if (end - start) - average <= variation:
                self.done = end
                return Chunk(self.chunk.data[start:end], self.chunk.ts)
            mid = start + (end - start) // 2
            if variation > 0:
                mid += rng.randrange(2 * variation) - variation
            # Toxiproxy can emit empty pieces here; keep every piece non-empty instead.
            mid = min(max(mid, start + 1), end - 1)
            stack.append((mid, end))
            stack.append((start, mid))

    def rest(self) -> Chunk:
        """What is not cut yet, as one chunk."""
        return Chunk(self.chunk.data[self.done :], self.chunk.ts)


class SlicerStage(Stage):
    """Splits chunks and spaces the pieces out."""

    __slots__ = ("cursor", "cutting", "due", "pending_end", "queue", "timer")

    def setup(self) -> None:
        self.queue: deque[tuple[float, Chunk]] = deque()  # (arrival, chunk) waiting their turn
        self.cutting: _Cut | None = None
        self.due = 0.0  # when the next piece of `cutting` is due
        self.pending_end: str | None = None
        self.timer = Timer(self.link.loop, self._release)

    def configured(self) -> None:
        self.cursor = 0.0  # when the piece after the last queued one would be due

    def _splits(self, size: int) -> bool:
        return size - self.attrs["average_size"] > self.attrs["size_variation"]

    def on_data(self, chunk: Chunk) -> None:
        size = len(chunk.data)
        delay = self.attrs["delay"] / 1_000_000
        if self._splits(size):
            # Bytes count as delayed only when the pieces are spaced out.
            self.record(size if delay > 0 else 0)
        self.queue.append((monotonic(), chunk))
        if self.cutting is None and len(self.queue) == 1:
            self._release()

    def _release(self) -> None:
        average, variation = self.attrs["average_size"], self.attrs["size_variation"]
        delay = self.attrs["delay"] / 1_000_000
        limit = monotonic() + EARLY_MARGIN
        while self.cutting is not None or self.queue:
            cut = self.cutting
            if cut is None:
                arrival, chunk = self.queue.popleft()
                self.cutting = cut = _Cut(chunk)
                self.due = max(arrival, self.cursor)
            if delay > 0 and self.due > limit:
                self.timer.arm(self.due, precise=False)
                return
            piece = cut.next_piece(average, variation, self.rng)
            self.due += delay
            if cut.stack:
                self.link.charge(1)  # the last piece inherits the chunk's own count
            else:
                self.cutting = None
                self.cursor = self.due
            self.emit(piece)
            if self.out_closed:
                return
        if self.pending_end is not None:
            kind, self.pending_end = self.pending_end, None
            self.emit_end(kind)

    def on_end(self, kind: str) -> None:
        if self.cutting is not None or self.queue:
            self.pending_end = kind
        else:
            self.emit_end(kind)

    def drain(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        chunks = [] if self.cutting is None else [self.cutting.rest()]
        chunks += [chunk for _, chunk in self.queue]
        self.cutting = None
        self.queue.clear()
        end, self.pending_end = self.pending_end, None
        self.cursor = 0.0
        return chunks, end


def _check(attrs: dict[str, int]) -> str | None:
    if attrs["size_variation"] > attrs["average_size"]:
        return (
            f"size_variation ({attrs['size_variation']}) must not be larger than "
            f"average_size ({attrs['average_size']})"
        )
    return None


KIND = ToxicKind(
    "slicer",
    "SlicerToxic",
    (
        AttrSpec(
            "average_size",
            go_type="int",
            minimum=1,
            maximum=_MAX_INT,
            why="bytes; 0 would crash Toxiproxy",
        ),
        AttrSpec("size_variation", go_type="int", maximum=_MAX_INT, why="bytes"),
        AttrSpec("delay", go_type="int", maximum=_MAX_INT, why="microseconds"),
    ),
    SlicerStage,
    _check,
)
