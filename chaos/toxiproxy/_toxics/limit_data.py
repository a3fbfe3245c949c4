"""limit_data: closes the connection once ``bytes`` bytes have gone through."""

from __future__ import annotations

from stormproof.chaos.toxiproxy._toxics._base import (
    CLOSE,
    MAX_INT64,
    AttrSpec,
    Chunk,
    Stage,
    ToxicKind,
)


class LimitDataStage(Stage):
    """Passes the first `bytes` bytes, then ends the stream (the count survives updates)."""

    __slots__ = ("transmitted",)

    def setup(self) -> None:
        self.transmitted = 0

    def on_data(self, chunk: Chunk) -> None:
        remaining = max(self.attrs["bytes"] - self.transmitted, 0)
        size = len(chunk.data)
        cut = max(size - remaining, 0)
        if cut:
            # A chunk cut to nothing is dropped whole; a shortened one lives on.
            self.link.dropped(cut, chunks=0 if remaining else 1)
            chunk = Chunk(chunk.data[:remaining], chunk.ts)
        if chunk.data:
            self.transmitted += len(chunk.data)
            self.emit(chunk)
        if self.attrs["bytes"] - self.transmitted <= 0:
            self.record(cut)
            self.emit_end(CLOSE)


KIND = ToxicKind(
    "limit_data",
    "LimitDataToxic",
    (AttrSpec("bytes", maximum=MAX_INT64, why="bytes"),),
    LimitDataStage,
)
