"""latency: delays every chunk by ``latency`` ms plus or minus ``jitter`` ms.

Chunks are delayed from the time they were read and released in order, so a stream of
chunks is pipelined: each arrives ``latency`` after it was sent, not after the previous one.
"""

from __future__ import annotations

from stormproof.chaos.toxiproxy._toxics._base import AttrSpec, Chunk, TimedStage, ToxicKind


class LatencyStage(TimedStage):
    """Holds each chunk until its read time plus the (jittered) latency."""

    __slots__ = ("last_due",)

    def configured(self) -> None:
        self.last_due = 0.0

    def on_data(self, chunk: Chunk) -> None:
        delay = self.attrs["latency"]
        jitter = self.attrs["jitter"]
        if jitter > 0:
            # Same distribution as Toxiproxy: uniform in [-jitter, jitter).
            delay += self.rng.randrange(2 * jitter) - jitter
        if delay > 0:
            self.record(len(chunk.data))
        due = chunk.ts + delay / 1000.0
        due = max(due, self.last_due)
        self.last_due = due
        self.schedule(due, chunk)

    def release(self, due: float, chunk: Chunk) -> None:
        # Stamp the chunk so a following latency toxic adds its delay on top.
        chunk.ts = max(chunk.ts, due)
        self.emit(chunk)

    def reset_schedule(self) -> None:
        self.last_due = 0.0


KIND = ToxicKind(
    "latency",
    "LatencyToxic",
    (AttrSpec("latency", why="milliseconds"), AttrSpec("jitter", why="milliseconds")),
    LatencyStage,
)
