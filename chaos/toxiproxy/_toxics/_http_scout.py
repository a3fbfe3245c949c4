"""Message boundaries for the ``http`` toxic's cheap path: llhttp (httptools) on whole reads.

h11 is pure Python and costs several times the proxy's own round trip per message; most
messages need only their method and path (requests) and where they end. A scout reads one read
at a time with llhttp and vouches for it only when that read holds at most one message head,
complete, and at most one message end, at its very end: then the read can go on whole, with no
offset needed inside it (httptools gives none). Anything else (a head split across reads, two
messages in one read, an upgrade, bytes llhttp refuses) is left to h11, from the start of the
message the scout was in.
"""

from __future__ import annotations

import httptools

_ERRORS = (httptools.HttpParserError, httptools.HttpParserUpgrade)
_BLANK = frozenset(b"\r\n")


class _Scout:
    """What one read held: whether a message began, its head, whether a message ended."""

    __slots__ = ("began", "busy", "done", "head", "parser", "since", "vouch")

    parser: httptools.HttpRequestParser | httptools.HttpResponseParser

    def __init__(self) -> None:
        self.busy = False  # inside a message whose head was read (and whose bytes went on)
        self.since = bytearray()  # that message's bytes so far, for h11 if it takes over
        self.began = self.done = self.vouch = False
        self.head = False

    def on_message_begin(self) -> None:
        if self.began or self.done:  # a second message in one read: its start is unknown
            self.vouch = False
        self.began = True

    def on_headers_complete(self) -> None:
        self.head = True

    def on_message_complete(self) -> None:
        self.done = True

    def feed(self, data: bytes) -> bool:
        """Feed one read; whether it can go on whole (see the module's docstring)."""
        if not self.busy and data[0] in _BLANK:
            return False  # h11 refuses a blank line before a message: let it say so
        self.began = self.done = self.head = False
        self.vouch = True
        try:
            self.parser.feed_data(data)
        except _ERRORS:
            return False
        return self.vouch and (self.head or not self.began)

    def commit(self, data: bytes) -> None:
        """The read went on whole: remember where it left the stream."""
        if self.done:
            self.busy = False
            self.since.clear()
        else:
            self.busy = True
            self.since += data


class RequestScout(_Scout):
    """Reads requests: the method and target of the head the last read held."""

    __slots__ = ("hosts", "method", "target")

    parser: httptools.HttpRequestParser

    def __init__(self) -> None:
        super().__init__()
        self.parser = httptools.HttpRequestParser(self)
        self.method = b""
        self.target = b""
        self.hosts = 0

    def on_message_begin(self) -> None:
        if self.began or self.done:
            self.vouch = False
        self.began = True
        self.target = b""
        self.hosts = 0

    def on_url(self, url: bytes) -> None:
        self.target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"host":
            self.hosts += 1

    def on_headers_complete(self) -> None:
        self.head = True
        self.method = self.parser.get_method()
        # h11 requires exactly one Host in HTTP/1.1 (at most one before); llhttp does not.
        if self.hosts > 1 or (self.hosts == 0 and self.parser.get_http_version() == "1.1"):
            self.vouch = False


class ResponseScout(_Scout):
    """Reads responses: whether the head the last read held is a final answer (not 1xx)."""

    __slots__ = ("final",)

    parser: httptools.HttpResponseParser

    def __init__(self) -> None:
        super().__init__()
        self.parser = httptools.HttpResponseParser(self)
        self.final = False

    def on_headers_complete(self) -> None:
        self.head = True
        self.final = self.parser.get_status_code() >= 200
