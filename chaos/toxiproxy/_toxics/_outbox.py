"""What an ``http`` stage sends on, in order: bytes, pauses, paced pieces and the end of stream."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import monotonic

from stormproof.chaos.toxiproxy._toxics._base import Chunk
from stormproof.chaos.toxiproxy._toxics._timer import EARLY_MARGIN, Timer

DATA, WAIT, DRIP, END = range(4)


class _Entry:
    __slots__ = ("data", "due", "end", "interval", "kind", "piece")

    def __init__(self, kind: int, data: bytes = b"", due: float = 0.0) -> None:
        self.kind = kind
        self.data = bytearray(data) if kind == DRIP else data
        self.due = due
        self.piece = 1
        self.interval = 0.0
        self.end = ""


class Outbox:
    """A FIFO released as soon as its head is due: later bytes never overtake a pause.

    Args:
        loop_timer: The timer that wakes the outbox when a pause or a paced piece is due.
        send: Sends bytes on (the stage accounts for them).
        finish: Ends the stage's output.
    """

    __slots__ = ("_finish", "_send", "batching", "entries", "timer")

    def __init__(
        self,
        loop_timer: Callable[[Callable[[], None]], Timer],
        send: Callable[[Chunk], None],
        finish: Callable[[str], None],
    ) -> None:
        self.entries: deque[_Entry] = deque()  # what waits to go, in order
        self._send = send
        self._finish = finish
        self.timer = loop_timer(self.pump)
        # While batching, bytes queued back to back go on as one write when the batch ends:
        # the head and body of one answer in one segment, as the upstream sent them.
        self.batching = False

    def data(self, data: bytes, ts: float) -> None:
        """Queue bytes to send as soon as everything before them went."""
        if data:
            last = self.entries[-1] if self.entries else None
            if self.batching and last is not None and last.kind == DATA:
                last.data = bytes(last.data) + data
            else:
                self.entries.append(_Entry(DATA, data, ts))
            if not self.batching:
                self.pump()

    def wait(self, due: float) -> None:
        """Hold everything queued after this until monotonic time `due`."""
        self.entries.append(_Entry(WAIT, due=due))
        self.pump()

    def drip(self, data: bytes, piece: int, interval: float) -> None:
        """Queue bytes to send `piece` bytes at a time, `interval` seconds apart."""
        if not data:
            return
        last = self.entries[-1] if self.entries else None
        if last is not None and last.kind == DRIP:
            assert isinstance(last.data, bytearray)
            last.data += data
        else:
            entry = _Entry(DRIP, data, monotonic())
            entry.piece, entry.interval = piece, interval
            self.entries.append(entry)
        self.pump()

    def end(self, kind: str) -> None:
        """End the stream once everything before it went."""
        entry = _Entry(END)
        entry.end = kind
        self.entries.append(entry)
        self.pump()

    def pump(self) -> None:
        """Send whatever is due; arm the timer for the rest."""
        self.batching = False
        entries = self.entries
        while entries:
            entry = entries[0]
            if entry.kind == DATA:
                entries.popleft()
                self._send(Chunk(bytes(entry.data), entry.due))
            elif entry.kind == END:
                entries.clear()
                self.timer.cancel()
                self._finish(entry.end)
                return
            elif monotonic() + EARLY_MARGIN < entry.due:
                if not self.timer.armed:
                    self.timer.arm(entry.due)
                return
            elif entry.kind == WAIT:
                entries.popleft()
            else:
                assert isinstance(entry.data, bytearray)
                piece = bytes(entry.data[: entry.piece])
                del entry.data[: entry.piece]
                now = monotonic()
                self._send(Chunk(piece, now))
                if not entry.data:
                    entries.popleft()
                else:
                    entry.due = now + entry.interval
                    self.timer.arm(entry.due)
                    return

    def take(self) -> tuple[list[bytes], str | None]:
        """Empty the outbox (the toxic is going): the bytes it held and a held end of stream."""
        self.timer.cancel()
        held = [bytes(e.data) for e in self.entries if e.kind in (DATA, DRIP) and e.data]
        end = next((e.end for e in self.entries if e.kind == END), None)
        self.entries.clear()
        return held, end
