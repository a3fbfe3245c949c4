"""bandwidth: limits the stream to ``rate`` KB/s (1 KB = 1000 bytes).

Like Toxiproxy, large chunks go out in slices of ``rate * 100`` bytes (100 ms worth) and
each slice is released when its last byte would have crossed the wire.
"""

from __future__ import annotations

from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import (
    MAX_INT64,
    AttrSpec,
    Chunk,
    TimedStage,
    ToxicKind,
)


class BandwidthStage(TimedStage):
    """Paces chunks to the configured rate."""

    __slots__ = ("cursor",)

    def configured(self) -> None:
        self.cursor = 0.0

    def on_data(self, chunk: Chunk) -> None:
        rate = self.attrs["rate"]
        per_second = rate * 1000.0
        slice_size = rate * 100
        t = max(monotonic(), self.cursor)
        data = chunk.data
        self.record(len(data))
        if len(data) <= slice_size:
            t += len(data) / per_second
            self.schedule(t, chunk)
        else:
            for offset in range(0, len(data), slice_size):
                part = data[offset : offset + slice_size]
                t += len(part) / per_second
                self.schedule(t, Chunk(part, chunk.ts))
        self.cursor = t

    def reset_schedule(self) -> None:
        self.cursor = 0.0


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
