"""slow_close: holds the end of the stream back for ``delay`` ms."""

from __future__ import annotations

from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import AttrSpec, Chunk, Stage, ToxicKind
from stormproof.chaos.toxiproxy._toxics._timer import Timer


class SlowCloseStage(Stage):
    """Forwards data at once; forwards the close ``delay`` ms after it came."""

    __slots__ = ("held_end", "timer")

    def setup(self) -> None:
        self.timer = Timer(self.link.loop, self._close_now)
        self.held_end: str | None = None

    def on_end(self, kind: str) -> None:
        self.held_end = kind
        if self.attrs["delay"] > 0:
            self.record()
        self.timer.arm(monotonic() + self.attrs["delay"] / 1000.0)

    def _close_now(self) -> None:
        kind, self.held_end = self.held_end, None
        if kind is not None:
            self.emit_end(kind)

    def drain(self) -> tuple[list[Chunk], str | None]:
        self.timer.cancel()
        kind, self.held_end = self.held_end, None
        return [], kind


KIND = ToxicKind(
    "slow_close", "SlowCloseToxic", (AttrSpec("delay", why="milliseconds"),), SlowCloseStage
)
