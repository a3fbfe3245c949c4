"""Per-toxic counters that prove a toxic fired: the embedded server's fault witnesses."""

from __future__ import annotations


class Witness:
    """What one toxic did, summed over every link it runs on.

    One witness belongs to one configured toxic: it is created with the toxic, kept when the
    toxic is updated and dropped with it when the toxic is removed.

    Attributes:
        connections: Links of the toxic's stream on which its toxicity roll came up active.
        acted: Times it changed the stream (what counts depends on the toxic type).
        bytes: Bytes it delayed, throttled, held or dropped (0 where that means nothing).
    """

    __slots__ = ("acted", "bytes", "connections")

    def __init__(self) -> None:
        self.connections = 0
        self.acted = 0
        self.bytes = 0

    def extra(self) -> dict[str, int]:
        """Counters beyond the three every toxic has (an extension's own), for its stats."""
        return {}

    def act(self, size: int = 0) -> None:
        """Count one action touching `size` bytes."""
        self.acted += 1
        self.bytes += size
