"""slicer: cuts each chunk into pieces of about ``average_size`` bytes.

Piece sizes vary by up to ``size_variation`` bytes, and ``delay`` microseconds pass between
pieces. The cutting follows Toxiproxy's recursive halving.
"""

from __future__ import annotations

from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import AttrSpec, Chunk, TimedStage, ToxicKind

_MAX_INT = 2**31 - 1


class SlicerStage(TimedStage):
    """Splits chunks and spaces the pieces out."""

    __slots__ = ("cursor",)

    def configured(self) -> None:
        self.cursor = 0.0

    def bounds(self, size: int) -> list[tuple[int, int]]:
        """Piece boundaries for `size` bytes, in order."""
        average = self.attrs["average_size"]
        variation = self.attrs["size_variation"]
        pieces: list[tuple[int, int]] = []
        stack = [(0, size)]
        while stack:
            start, end = stack.pop()
            if (end - start) - average <= variation:
                pieces.append((start, end))
                continue
            mid = start + (end - start) // 2
            if variation > 0:
                mid += self.rng.randrange(2 * variation) - variation
            # Toxiproxy can emit empty pieces here; keep every piece non-empty instead.
            mid = min(max(mid, start + 1), end - 1)
            stack.append((mid, end))
            stack.append((start, mid))
        return pieces

    def on_data(self, chunk: Chunk) -> None:
        data = chunk.data
        delay = self.attrs["delay"] / 1_000_000
        pieces = [Chunk(data[a:b], chunk.ts) for a, b in self.bounds(len(data))]
        if len(pieces) > 1:
            # Bytes count as delayed only when the pieces are spaced out.
            self.record(len(data) if delay > 0 else 0)
        if delay == 0 and not self.queue:
            for piece in pieces:
                self.emit(piece)
            return
        t = max(monotonic(), self.cursor)
        for piece in pieces:
            self.schedule(t, piece)
            t += delay
        self.cursor = t

    def reset_schedule(self) -> None:
        self.cursor = 0.0


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
