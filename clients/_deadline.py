"""A true wall-clock deadline for HTTP attempts: a watchdog that shuts the socket down.

``requests``' read timeout bounds each socket read, not the response: measured here, a 1 s read
timeout let a body dripping a byte per 0.5 s run 6 s and a dripping status line 29.5 s. So each
attempt registers a :class:`Watch`; the connection classes below attach their socket to the
watch of the current thread's attempt, and one daemon thread shuts that socket down when the
deadline passes. The blocked read then fails at once and the pipeline reports the deadline.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import socket
import threading
import time
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Watch", "WatchdogAdapter", "end_watch", "start_watch"]

_local = threading.local()


class Watch:
    """The deadline of one attempt and the sockets it uses."""

    __slots__ = ("_lock", "_sockets", "done", "expired", "expires_at")

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at
        self.expired = False
        self.done = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def attach(self, sock: socket.socket | None) -> None:
        """Watch ``sock``; shut it down at once if the deadline already passed."""
        if sock is None:
            return
        with self._lock:
            if self.done:
                return
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def fire(self) -> None:
        """Mark the attempt expired and shut its sockets down."""
        with self._lock:
            if self.done:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)

    def finish(self) -> None:
        """Stop watching: the attempt is over."""
        with self._lock:
            self.done = True
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    # Already closed by the peer or by urllib3: nothing left to interrupt.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread per process firing watches whose deadline passed.

    The thread sleeps until the earliest deadline it knows of and is only woken when a new
    watch expires before that: finished watches are dropped lazily, so a steady stream of
    calls that finish in time never wakes it (waking it per call cost ~0.3 ms of GIL handoff).
    """

    _COMPACT_AT = 4096

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Watch]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf

    def add(self, watch: Watch) -> None:
        with self._cond:
            if len(self._heap) >= self._COMPACT_AT:
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (watch.expires_at, next(self._seq), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="stormproof-deadline-watchdog", daemon=True
                )
                self._thread.start()
            if watch.expires_at < self._wake_at:
                self._wake_at = watch.expires_at
                self._cond.notify()

    def _run(self) -> None:
        while True:
            due: list[Watch] = []
            with self._cond:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    watch = heapq.heappop(self._heap)[2]
                    if not watch.done:
                        due.append(watch)
                if not due:
                    self._wake_at = self._heap[0][0] if self._heap else math.inf
                    timeout = self._wake_at - now if self._heap else None
                    self._cond.wait(timeout)
            for watch in due:
                watch.fire()


_watchdog = _Watchdog()


def start_watch(seconds: float) -> Watch:
    """Start watching the current thread's next attempt for ``seconds`` of real time.

    Args:
        seconds: Time left before the deadline.

    Returns:
        The watch; pass it to :func:`end_watch` when the attempt is over.
    """
    watch = Watch(time.monotonic() + max(0.0, seconds))
    _watchdog.add(watch)
    _local.watch = watch
    return watch


def end_watch(watch: Watch) -> None:
    """Stop watching the current thread's attempt.

    Args:
        watch: The watch :func:`start_watch` returned.
    """
    watch.finish()
    _local.watch = None


def _attach_current(sock: socket.socket | None) -> None:
    watch: Watch | None = getattr(_local, "watch", None)
    if watch is not None:
        watch.attach(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _attach_current(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        # A reused keep-alive connection skips connect(): attach its socket here.
        _attach_current(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _attach_current(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach_current(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchdogAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections report their sockets to the watchdog."""

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """Create the pool manager with watched connection pools."""
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        manager: urllib3.PoolManager = self.poolmanager
        manager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }
