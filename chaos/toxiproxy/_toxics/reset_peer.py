"""reset_peer: on the first data (or close), waits ``timeout`` ms, then resets with TCP RST.

The data is dropped. The reset closes both sockets with SO_LINGER 0, so the peers see
ECONNRESET rather than a clean end of stream. As in Toxiproxy, which sets SO_LINGER 0 only
when a connection starts, a reset_peer added to a connection already open ends it with a
clean close instead.
"""

from __future__ import annotations

from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import (
    CLOSE,
    RESET,
    AttrSpec,
    Chunk,
    Stage,
    ToxicKind,
)
from stormproof.chaos.toxiproxy._toxics._timer import Timer


class ResetPeerStage(Stage):
    """Drops data; sends RST `timeout` ms after the first data arrived."""

    __slots__ = ("ending", "timer", "triggered_at")

    def setup(self) -> None:
        self.timer = Timer(self.link.loop, self._reset)
        self.triggered_at: float | None = None
        self.ending = CLOSE if self.link.live else RESET

    def configured(self) -> None:
        if self.active and self.triggered_at is not None:
            self.timer.arm(self.triggered_at + self.attrs["timeout"] / 1000.0)

    def _trigger(self) -> None:
        if self.triggered_at is None:
            self.triggered_at = monotonic()
            self.configured()

    def _reset(self) -> None:
        if not self.out_closed:
            self.record()
        self.emit_end(self.ending)

    def on_data(self, chunk: Chunk) -> None:
        self.link.dropped(len(chunk.data))
        self.record_bytes(len(chunk.data))
        self._trigger()

    def on_end(self, kind: str) -> None:
        self._trigger()

    def drain(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        return [], None


KIND = ToxicKind(
    "reset_peer", "ResetToxic", (AttrSpec("timeout", why="milliseconds"),), ResetPeerStage
)
