"""noop: passes everything through unchanged."""

from __future__ import annotations

from stormproof.chaos.toxiproxy._toxics._base import Chunk, Stage, ToxicKind


class NoopStage(Stage):
    """Forwards data and the end of the stream untouched."""

    __slots__ = ()

    def on_data(self, chunk: Chunk) -> None:
        # Passing a chunk is all a noop does, so that is what its witness counts.
        self.record()
        self.emit(chunk)


KIND = ToxicKind("noop", "NoopToxic", (), NoopStage)
