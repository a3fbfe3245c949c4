"""timeout: swallows all data and closes the connection after ``timeout`` ms without data.

``timeout`` 0 swallows data forever. As in Toxiproxy, removing the toxic closes every
connection of its proxy in its direction (whether or not the toxicity roll picked them).
"""

from __future__ import annotations

from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import CLOSE, AttrSpec, Chunk, Stage, ToxicKind
from stormproof.chaos.toxiproxy._toxics._timer import Timer


class TimeoutStage(Stage):
    """Drops data; ends the stream once it has been idle for the timeout."""

    __slots__ = ("held", "timer")

    def setup(self) -> None:
        self.timer = Timer(self.link.loop, self._expire)
        self.held = False

    def _witness(self, size: int) -> None:
        # One action per link: the connection is held (its data swallowed) or dropped.
        if self.held:
            self.record_bytes(size)
        else:
            self.held = True
            self.record(size)

    def configured(self) -> None:
        self._restart()

    def _restart(self) -> None:
        timeout = self.attrs["timeout"]
        if self.active and timeout > 0 and not self.out_closed:
            self.timer.arm(monotonic() + timeout / 1000.0)

    def _expire(self) -> None:
        if not self.out_closed:
            self._witness(0)
        self.emit_end(CLOSE)

    def on_data(self, chunk: Chunk) -> None:
        self.link.dropped(len(chunk.data))
        self._witness(len(chunk.data))
        self._restart()

    def drain(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        return [], None

    def detach(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        if self.out_closed:
            return [], None
        return [], CLOSE


KIND = ToxicKind(
    "timeout", "TimeoutToxic", (AttrSpec("timeout", why="milliseconds"),), TimeoutStage
)
