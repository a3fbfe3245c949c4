"""noop: passes everything through unchanged."""

from __future__ import annotations

from stormproof.chaos.toxiproxy._toxics._base import Stage, ToxicKind


class NoopStage(Stage):
    """Forwards data and the end of the stream untouched."""

    __slots__ = ()


KIND = ToxicKind("noop", "NoopToxic", (), NoopStage)
