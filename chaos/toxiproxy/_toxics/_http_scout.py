"""Message boundaries for the ``http`` toxic's cheap path: llhttp (httptools) on whole reads.

h11 is pure Python and costs several times the proxy's own round trip per message; most
messages need only their method and path (requests) and where they end. A scout reads one read
at a time with llhttp and vouches for it only when that read holds at most one message head,
complete, and at most one message end, at its very end: then the read can go on whole, with no
offset needed inside it (httptools gives none). Anything else (a head split across reads, two
messages in one read, an upgrade, bytes llhttp refuses) is left to h11, from the start of the
message the scout was in.

llhttp's callbacks are C calls that append a marker to a log: with a Python callback per event
and per header field, a request's callbacks cost more than llhttp's parse of it. The scout reads
the log once the read is parsed, and the request line and Host fields from the read's bytes.
"""

from __future__ import annotations

import re
from functools import partial

import httptools

from stormproof.chaos.toxiproxy._toxics._http_wire import request_path

_ERRORS = (httptools.HttpParserError, httptools.HttpParserUpgrade)
_BLANK = frozenset(b"\r\n")
# The request line of a head llhttp accepted, as h11 reads it: one space between its three parts
# and HTTP/1.1 or 1.0. An origin-form target's path (query and fragment excluded) is group 2;
# any other target (absolute-form, ``*``) is group 3.
_REQUEST_LINE = re.compile(rb"([^ ]+) (?:(/[^ ?#]*)[^ ]*|([^ ]+)) HTTP/1\.([01])\r\n")
BEGIN, HEAD, DONE = 1, 2, 3
_WHOLE = bytes((BEGIN, HEAD, DONE))  # the usual read: one whole message


class _Events:
    """The parser's protocol: each callback appends its marker to `log`."""

    __slots__ = ("on_headers_complete", "on_message_begin", "on_message_complete")

    def __init__(self, log: bytearray) -> None:
        self.on_message_begin = partial(log.append, BEGIN)
        self.on_headers_complete = partial(log.append, HEAD)
        self.on_message_complete = partial(log.append, DONE)


class _Scout:
    """What one read held: whether a message head was read, whether a message ended."""

    __slots__ = ("busy", "done", "events", "head", "parser", "since")

    parser: httptools.HttpRequestParser | httptools.HttpResponseParser

    def __init__(self) -> None:
        self.busy = False  # inside a message that began in an earlier read (whose bytes went on)
        self.since = bytearray()  # that message's bytes so far, for h11 if it takes over
        self.events = bytearray()
        self.done = self.head = False

    def feed(self, data: bytes) -> bool:
        """Feed one read; whether it can go on whole (see the module's docstring)."""
        if not self.busy and data[0] in _BLANK:
            return False  # h11 refuses a blank line before a message: let it say so
        events = self.events
        events.clear()
        try:
            self.parser.feed_data(data)
        except _ERRORS:
            return False
        if events == _WHOLE:
            self.head = self.done = True
        elif not self._judge(events):
            return False
        return self._read_head(data) if self.head else True

    def _read_head(self, data: bytes) -> bool:
        """Take what the head the read held says; False: leave the read to h11."""
        raise NotImplementedError

    def _judge(self, events: bytearray) -> bool:
        began = self.head = self.done = False
        for event in events:
            if event == BEGIN:
                if began or self.done:  # a second message in one read: its start is unknown
                    return False
                began = True
            elif event == HEAD:
                self.head = True
            else:
                self.done = True
        return self.head or not began

    def commit(self, data: bytes) -> None:
        """The read went on whole: remember where it left the stream."""
        if self.done:
            self.busy = False
            self.since.clear()
        else:
            self.busy = True
            self.since += data


class RequestScout(_Scout):
    """Reads requests: the method and path of the head the last read held."""

    __slots__ = ("line_end", "method", "minor", "path")

    parser: httptools.HttpRequestParser

    def __init__(self) -> None:
        super().__init__()
        self.parser = httptools.HttpRequestParser(_Events(self.events))
        self.method = self.path = b""  # of the head the last read held
        self.minor = b"1"  # its HTTP minor version
        self.line_end = 0  # where its request line ends

    def _read_head(self, data: bytes) -> bool:
        """Take the method and path of the head llhttp accepted; False: leave it to h11.

        A vouched read with a head starts with it. A request line this reading does not find as
        it expects (more than one space, an HTTP version h11 refuses) goes to h11.
        """
        line = _REQUEST_LINE.match(data)
        if line is None:
            return False
        self.method, path, target, self.minor = line.groups()
        self.path = path if path is not None else request_path(target)
        self.line_end = line.end() - 2
        return True

    def hosts_ok(self, data: bytes) -> bool:
        """Whether the head of the read last fed has the Host fields h11 requires: exactly one
        in HTTP/1.1, at most one before (llhttp does not check)."""
        # llhttp accepts only CRLF line ends and refuses obs-fold, so a field line starts after
        # CRLF and this counts Host fields exactly.
        head_end = data.find(b"\r\n\r\n", self.line_end)
        if head_end < 0:
            return False
        hosts = data[self.line_end : head_end + 2].lower().count(b"\r\nhost:")
        return hosts == 1 or (hosts == 0 and self.minor == b"0")


class ResponseScout(_Scout):
    """Reads responses: whether the head the last read held is a final answer (not 1xx)."""

    __slots__ = ("final",)

    parser: httptools.HttpResponseParser

    def __init__(self) -> None:
        super().__init__()
        self.parser = httptools.HttpResponseParser(_Events(self.events))
        self.final = False

    def _read_head(self, data: bytes) -> bool:
        self.final = self.parser.get_status_code() >= 200
        return True
