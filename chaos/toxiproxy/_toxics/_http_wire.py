"""HTTP/1.1 on the wire for the ``http`` toxic: h11 finds the message boundaries, bytes stay raw.

Each message is parsed by a fresh ``h11.Connection`` (h11 would otherwise wait for our side of the
exchange before it parses the next pipelined message); how many bytes h11 has consumed after each
event gives the raw boundaries, so messages the toxic leaves alone are forwarded byte for byte.
"""

from __future__ import annotations

import json
import re
from email.utils import formatdate
from http import HTTPStatus

import h11

from stormproof.chaos.toxiproxy._toxics._http_attrs import HttpAttributes

# A request starts with a method token and a space (after optional empty lines). Anything else is
# not HTTP, found on the first bytes rather than after h11 has buffered its 16 KiB limit.
_REQUEST_START = re.compile(rb"(?:\r?\n)*[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}(?: |\Z)")
_PARTIAL_START = re.compile(rb"(?:\r?\n)*[!#$%&'*+.^_`|~0-9A-Za-z-]{0,64}\Z")

MALFORMED_BODY = b'<html><body>\xff upstream error (malformed by a stormproof http toxic) {"'


def looks_like_request(data: bytes) -> bool | None:
    """Whether `data` can start an HTTP request (None: too few bytes to tell)."""
    if _REQUEST_START.match(data):
        return True
    return None if _PARTIAL_START.match(data) else False


class Reader:
    """One message being read by h11, with the count of raw bytes it has consumed."""

    __slots__ = ("conn", "fed")

    def __init__(self, conn: h11.Connection) -> None:
        self.conn = conn
        self.fed = 0

    @classmethod
    def for_request(cls) -> Reader:
        """A reader of the next request (the proxy's view of the client)."""
        return cls(h11.Connection(h11.SERVER))

    @classmethod
    def for_response(cls, method: bytes) -> Reader:
        """A reader of the response to a `method` request (a HEAD answer has no body)."""
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "upstream")]))
        conn.send(h11.EndOfMessage())
        return cls(conn)

    def feed(self, data: bytes) -> None:
        """Hand more bytes to h11 (b"" for the end of the stream)."""
        self.conn.receive_data(data)
        self.fed += len(data)

    def next_event(self) -> tuple[object, int]:
        """The next event and the raw bytes consumed so far.

        Raises:
            h11.RemoteProtocolError: The bytes are not HTTP/1.1.
        """
        event = self.conn.next_event()
        return event, self.fed - len(self.conn.trailing_data[0])

    def leftover(self) -> bytes:
        """Bytes fed but not consumed (the start of the next message)."""
        return self.conn.trailing_data[0]


def request_path(target: bytes) -> bytes:
    """The path of a request target, without its query (``/a?b`` -> ``/a``)."""
    if b"://" in target:  # absolute-form, as a client speaking to a proxy sends it
        target = b"/" + target.split(b"://", 1)[1].partition(b"/")[2]
    return target.split(b"?", 1)[0].split(b"#", 1)[0]


def wants_continue(request: h11.Request) -> bool:
    """Whether the client waits for ``100 Continue`` before sending the body."""
    return any(n == b"expect" and v.lower() == b"100-continue" for n, v in request.headers)


def _head(status: int, headers: list[tuple[str, str]], reason: bytes | None = None) -> bytes:
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b""
    lines = [b"HTTP/1.1 %d %s" % (status, reason)]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def status_answer(attrs: HttpAttributes, *, close: bool) -> bytes:
    """The whole answer of a ``status`` toxic."""
    body = attrs.body.encode()
    if not attrs.body:
        message = f"fault injected by a stormproof http toxic (status {attrs.status})"
        body = json.dumps({"error": {"type": "fault_injected", "message": message}}).encode()
    headers = [("Content-Type", attrs.content_type), ("Content-Length", str(len(body)))]
    if attrs.retry_after:
        headers.append(("Retry-After", attrs.retry_after))
    headers += list(attrs.headers.items())
    headers.append(("Date", formatdate(usegmt=True)))
    if close:
        headers.append(("Connection", "close"))
    return _head(attrs.status, headers) + body


def malformed_answer(attrs: HttpAttributes, response: h11.Response | None, *, close: bool) -> bytes:
    """The upstream's status and headers (or 200 JSON) with a body that does not parse."""
    body = attrs.body.encode() if attrs.body else MALFORMED_BODY
    dropped = {b"content-length", b"transfer-encoding", b"connection"}
    if response is None:
        status, reason = 200, b"OK"
        headers = [("Content-Type", "application/json")]
    else:
        status, reason = response.status_code, response.reason
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.headers.raw_items()
            if name.lower() not in dropped
        ]
    headers.append(("Content-Length", str(len(body))))
    if close:
        headers.append(("Connection", "close"))
    return _head(status, headers, reason) + body


def truncated_answer() -> bytes:
    """A ``truncated`` answer made before the upstream: 64 bytes declared, half of them sent."""
    body = b'{"id": "truncated-by-a-stormproof-http-toxic", "status": "create'
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    return _head(200, headers) + body[: len(body) // 2]
