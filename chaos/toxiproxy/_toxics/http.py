"""http (a stormproof extension): HTTP faults per request, in front of any HTTP/1.1 upstream.

Unlike Toxiproxy's toxics, which act per connection and direction, an ``http`` toxic runs on both
links of every connection: the request side reads requests (llhttp vouches for the reads of
messages no rule matches, h11 reads the rest) and decides, per matching request, whether to act;
the response side reads the answers in the same order and carries the decision out (answer
instead, replace, slow, drip, malformed, truncated, lost). Bytes of messages it leaves alone go on
untouched, and a connection that is not HTTP passes through untouched too (``not_http`` in the
toxic's stats). Its toxicity is rolled per matching request.

Several ``http`` toxics on one proxy are one ordered rule set, as a provider's fault rules are:
the first of them in the chain reads the traffic, and each request goes to the oldest toxic that
matches it, rolls active and has count left; the others pass the bytes on untouched.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, cast

import h11

from stormproof.chaos.toxiproxy._toxics._base import CLOSE, Chunk, Stage, ToxicKind
from stormproof.chaos.toxiproxy._toxics._http_attrs import (
    HttpAttributes,
    http_attributes_schema,
    parse_http_attributes,
)
from stormproof.chaos.toxiproxy._toxics._http_scout import RequestScout, ResponseScout
from stormproof.chaos.toxiproxy._toxics._http_wire import (
    Reader,
    looks_like_request,
    malformed_answer,
    request_path,
    status_answer,
    truncated_answer,
    wants_continue,
)
from stormproof.chaos.toxiproxy._toxics._outbox import Outbox
from stormproof.chaos.toxiproxy._toxics._timer import Timer
from stormproof.chaos.toxiproxy._toxics._witness import Witness

if TYPE_CHECKING:
    from stormproof.chaos.toxiproxy._link import Link

FORWARD, DROP, DRIP = "forward", "drop", "drip"
# Bytes of one message the scout lets go on before h11 takes over: h11 needs the message from its
# start to find its end, so the scout keeps a copy of what it let through.
SCOUT_LIMIT = 64 * 1024
# Answers' reads (and bytes, up to SCOUT_LIMIT) that may go on before the scout reads them.
LAG_READS = 32
# Answers llhttp cannot frame without knowing the request (a HEAD answer has no body).
_UNFRAMED = (b"HEAD", b"CONNECT")


class HttpWitness(Witness):
    """An ``http`` toxic's counters: requests seen, matched and acted on, connections not HTTP.

    Attributes:
        requests: Requests read on connections the toxic saw.
        matched: Requests whose method and path matched.
        not_http: Connections passed through untouched because they did not speak HTTP/1.1.
        claimed: Matching requests picked to act on (what `count` limits).
    """

    __slots__ = ("claimed", "matched", "not_http", "requests")

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self.matched = 0
        self.not_http = 0
        self.claimed = 0

    def extra(self) -> dict[str, int]:
        return {"requests": self.requests, "matched": self.matched, "not_http": self.not_http}


class _Answer:
    """A made-up answer waiting for its turn among the connection's answers."""

    __slots__ = ("close", "data")

    def __init__(self, data: bytes, close: bool) -> None:
        self.data = data
        self.close = close


class _Expect:
    """An answer the upstream owes, what to do to it (mode None: nothing), and by which toxic."""

    __slots__ = ("method", "mode", "rule")

    def __init__(self, method: bytes, mode: str | None, rule: HttpStage) -> None:
        self.method = method
        self.mode = mode
        self.rule = rule


class HttpStage(Stage):
    """One ``http`` toxic on one link: the request side upstream, the response side downstream."""

    __slots__ = (
        "action",
        "box",
        "config",
        "cut_at",
        "dead",
        "held",
        "is_request",
        "lag",
        "lagged",
        "matcher",
        "passthrough",
        "peer",
        "plain",
        "primary",
        "queue",
        "reader",
        "released",
        "rule",
        "rules",
        "scout",
        "seen",
        "sink",
        "tallies",
        "toxicity",
    )

    def __init__(self, link: Any, *, toxicity: float, **kwargs: Any) -> None:
        # Toxicity is rolled per request, so the link itself is always active.
        self.toxicity = toxicity
        super().__init__(link, toxicity=1.0, **kwargs)

    def _count_roll(self) -> None:
        # Counted once per connection (on its request side), not once per link.
        if not self.counted and cast("Link", self.link).direction == "upstream":
            self.counted = True
            self.witness.connections += 1

    @property
    def counters(self) -> HttpWitness:
        """The toxic's counters."""
        return cast(HttpWitness, self.witness)

    def setup(self) -> None:
        link = cast("Link", self.link)
        self.sink = link  # the link as its own class (`link` is typed as every stage sees it)
        self.is_request = link.direction == "upstream"
        self.box = Outbox(lambda cb: Timer(link.loop, cb), self._send, self.emit_end)
        self.held = bytearray()
        self.released = 0
        self.action = FORWARD
        self.passthrough = False
        self.dead = False
        self.seen = False
        self.cut_at = -1
        self.queue: deque[_Answer | _Expect] = deque()
        self.peer: HttpStage | None = None
        self.plain: dict[bytes, _Expect] = {}  # answers owed to requests no toxic acts on
        self.rule: HttpStage = self  # the toxic whose decision the current answer carries out
        self.reader: Reader | None = None
        # The link's http toxics in chain order and their counters; kept by `chain_changed`.
        self.rules: tuple[HttpStage, ...] = ()
        self.tallies: tuple[HttpWitness, ...] = ()
        self.primary = False  # the first http toxic of its link: the one that reads the traffic
        self.scout: RequestScout | ResponseScout | None = self._new_scout()
        self.lag: list[bytes] = []  # answers' reads that went on before the scout read them
        self.lagged = 0  # their bytes
        if not self.is_request:
            for stage in link.conn.up.stages if link.conn.up is not None else ():
                if isinstance(stage, HttpStage) and stage.name == self.name:
                    stage.peer, self.peer = self, stage

    def chain_changed(self, stages: list[Stage]) -> None:
        self.rules = tuple(stage for stage in stages if isinstance(stage, HttpStage))
        self.tallies = tuple(rule.counters for rule in self.rules)
        self.primary = self.rules[0] is self

    def shortcut(self, stages: list[Stage]) -> Callable[[bytes], bool] | None:
        # Only http toxics on the link: a read nobody acts on may skip the chain altogether.
        return self._shortcut if all(isinstance(s, HttpStage) for s in stages) else None

    def _shortcut(self, data: bytes) -> bool:
        """The usual read, of messages no rule matches, written on without a chunk or a stage
        in between; False: it goes through the chain (see `push`).

        Only the decision comes before the write; what the toxic notes of the read comes after.
        """
        if self.scout is None or self.out_closed or self.dead or self.passthrough:
            return False
        if self.is_request and not self._vouch_request(data):
            self._go_exact(monotonic())  # h11 reads it from its start, through the chain
            return False
        sink = self.sink
        if self.box.entries or sink.coalesced is not None:
            # Bytes still wait to go before these (a request held back, a write joined behind
            # a backlog): these queue behind them.
            sink.received += len(data)
            sink.inflight += len(data)
            self.box.data(data, monotonic())
        else:
            sink.write_through(data)
        if self.is_request:
            self._request_went_on(data)
        else:
            self._answer_went_on(data)
        return True

    def configured(self) -> None:
        self.config = HttpAttributes.model_validate(self.attrs)
        self.matcher = self.config.matcher()

    def update(self, attrs: dict[str, int], toxicity: float) -> None:
        # Nothing held is replayed: the parsers keep their place in the stream.
        self.attrs = attrs
        self.toxicity = toxicity
        self.configured()

    # -- accounting: held bytes stay counted by the link, each chunk sent costs one chunk ---
    def _send(self, chunk: Chunk) -> None:
        self.link.charge(1)
        self.emit(chunk)

    def _made_up(self, data: bytes) -> None:
        cast("Link", self.link).inflight += len(data)
        self.box.data(data, monotonic())

    def _drop(self, size: int) -> None:
        if size:
            self.link.dropped(size, chunks=0)
            self.record_bytes(size)

    # -- stream ------------------------------------------------------------------------
    def push(self, chunk: Chunk) -> None:
        # Stage.push with the usual case first (an http stage is always active): a read of
        # messages nobody acts on goes on as it came.
        if (
            self.scout is not None
            and self.primary
            and not (self.out_closed or self.dead or self.passthrough)
            and not self.box.entries
        ):
            if self._scouted(chunk.data):
                if not self.box.entries:
                    self.next.push(chunk)
                else:
                    self.link.dropped(0, chunks=1)
                    self.box.data(chunk.data, chunk.ts)
                return
            self._go_exact(chunk.ts)  # the scout did not vouch: h11 reads it from its start
        super().push(chunk)

    def on_data(self, chunk: Chunk) -> None:
        self.link.dropped(0, chunks=1)  # the bytes live on in this stage, the chunk does not
        data = chunk.data
        self.box.batching = True
        while data:  # a loop, not recursion: one chunk may carry many pipelined messages
            data = self._take(data, chunk.ts)
        self.box.pump()

    def _take(self, data: bytes, ts: float) -> bytes:
        """Read `data`; returns what follows the end of a message (the next one's start)."""
        if self.dead:
            self._drop(len(data))
            return b""
        if not self.primary or self.passthrough:
            self.box.data(data, ts)
            return b""
        if self.scout is not None:
            # Bytes that cannot start a request fail the scout too: h11 then says so.
            if self._scouted(data):
                if not self.box.entries:  # the usual case, without the outbox's bookkeeping
                    self._send(Chunk(data, ts))
                else:
                    self.box.data(data, ts)
            else:
                self._go_exact(ts)
                return self._take(data, ts)
            return b""
        if self.reader is None and not self._start_response():
            self.box.data(data, ts)
            return b""
        if self.released == 0 and not self.held:
            if self.is_request:
                if looks_like_request(data[:80]) is False:
                    self._not_http(data, ts)
                    return b""
            else:
                self._first_byte(ts)
        self.held += data
        assert self.reader is not None
        self.reader.feed(data)
        return self._run(ts)

    def on_end(self, kind: str) -> None:
        if self.lag:
            self._catch_up()  # the answers' reads that went on unread are framed (and judged)
        if self.reader is not None and not self.passthrough and not self.dead:
            with contextlib.suppress(RuntimeError):
                self.reader.feed(b"")
            rest = self._run(monotonic())
            if rest:
                self.held = bytearray(rest)
        if self.held and not self.dead:
            # An unfinished message: what was not decided goes on as it came.
            data, self.held = bytes(self.held), bytearray()
            if self.action == DROP:
                self._drop(len(data))
            else:
                self.box.data(data, monotonic())
        self.box.end(kind)

    def drain(self) -> tuple[list[Chunk], str | None]:
        held, end = self.box.take()
        if self.held and self.action != DROP and not self.dead:
            held.append(bytes(self.held))
        elif self.held:
            self.link.dropped(len(self.held), chunks=0)
        self.held = bytearray()
        self.dead = True
        now = monotonic()
        self.link.charge(len(held))
        return [Chunk(data, now) for data in held], end

    # -- parsing -----------------------------------------------------------------------
    def _run(self, ts: float) -> bytes:
        while self.reader is not None and not self.passthrough and not self.dead:
            try:
                event, consumed = self.reader.next_event()
            except h11.RemoteProtocolError:
                self._not_http(b"", ts)
                return b""
            if event is h11.NEED_DATA:
                self._release(consumed, ts)
                return b""
            if event is h11.PAUSED:  # an upgrade or CONNECT: what follows is not HTTP
                self._release(consumed, ts)
                self.seen = True
                self._not_http(b"", ts)
                return b""
            if isinstance(event, h11.Request):
                self._decide(event)
                self._release(consumed, ts)
            elif isinstance(event, h11.Response):
                self._respond(event, consumed, ts)
            elif isinstance(event, h11.Data):
                self._release(consumed, ts)
                if self.cut_at >= 0 and consumed > self.cut_at:
                    self._cut()
            elif isinstance(event, h11.EndOfMessage):
                self._release(consumed, ts)
                return self._next_message()
            elif isinstance(event, h11.InformationalResponse):
                self._release(consumed, ts)
            else:  # ConnectionClosed
                break
        return b""

    def _release(self, consumed: int, ts: float) -> None:
        size = consumed - self.released
        if size <= 0:
            return
        if self.cut_at >= 0:
            size = min(size, max(self.cut_at - self.released, 0))
            consumed = self.released + size
        piece = bytes(self.held[:size])
        del self.held[:size]
        self.released = consumed
        if self.action == DROP:
            self._drop(size)
        elif self.action == DRIP:
            config = self.rule.config
            self.box.drip(piece, config.drip_bytes, config.delay_ms / 1000.0)
        else:
            self.box.data(piece, ts)

    def _next_message(self) -> bytes:
        rest = bytes(self.held)
        self.held = bytearray()
        self.released = 0
        self.action = FORWARD
        self.cut_at = -1
        if not self.is_request:
            self.queue.popleft()
            self.reader = None
            self._pump_answers()
        if not rest and not self.dead:  # the message ended with the read: the scout may go on
            self.scout = self._new_scout()
        if self.is_request:
            self.reader = Reader.for_request() if self.scout is None else None
        return rest

    # -- the cheap path: llhttp vouches for whole reads of messages nobody acts on ----------
    def _new_scout(self) -> RequestScout | ResponseScout | None:
        if self.is_request:
            return RequestScout()
        return ResponseScout() if self._plain_answers() else None

    def _plain_answers(self) -> bool:
        """Whether every answer owed is the upstream's, left alone, and framed as llhttp sees it."""
        return all(
            isinstance(owed, _Expect) and owed.mode is None and owed.method not in _UNFRAMED
            for owed in self.queue
        )

    def _scouted(self, data: bytes) -> bool:
        """Whether the scout vouches that `data` goes on whole, nobody acting; False: h11's turn."""
        if not self.is_request:
            self._answer_went_on(data)
        elif self._vouch_request(data):
            self._request_went_on(data)
        else:
            return False
        return True

    def _vouch_request(self, data: bytes) -> bool:
        """Whether the read is one the scout frames and no rule acts on (the head it holds, if
        any, matches none)."""
        scout = self.scout
        assert isinstance(scout, RequestScout)
        if not scout.feed(data):
            return False
        if scout.head:
            method, path = scout.method, scout.path
            for rule in self.rules:
                if rule.matcher.hits(method, path):
                    return False  # h11 reads it from its start, and counts it
        return True

    def _request_went_on(self, data: bytes) -> None:
        """Note a vouched request read: the answer it is owed, and the answers read meanwhile."""
        scout = self.scout
        assert isinstance(scout, RequestScout)
        if scout.head and not scout.hosts_ok(data):
            # h11 refuses what llhttp read: it says so (not HTTP) of bytes that went on as it
            # would have let them go.
            ts = monotonic()
            self._go_exact(ts)
            self._reread(data, ts)
            return
        peer = self.peer
        if peer is not None and peer.lag:
            peer._catch_up()  # before this request is owed an answer (see `_catch_up`)
            if self.passthrough:
                return  # those answers were not HTTP: it went on untouched, uncounted
        scout.commit(data)
        if scout.head:
            self.seen = True
            for tally in self.tallies:
                tally.requests += 1
            if peer is not None and not peer.out_closed:
                method = scout.method
                owed = self.plain.get(method)
                if owed is None:  # one per method (llhttp knows a fixed set): it never changes
                    owed = self.plain[method] = _Expect(method, None, self)
                peer.queue.append(owed)
                if method in _UNFRAMED:
                    peer._go_exact(monotonic())
        if scout.busy and len(scout.since) > SCOUT_LIMIT:
            self._go_exact(monotonic())  # h11 reads the rest of a long message, not a copy

    def _answer_went_on(self, data: bytes) -> None:
        """Note an answer's read, to scout later (`_catch_up`): while the scout runs, every
        answer owed is the upstream's, left alone, so none waits on it."""
        lag = self.lag
        if not lag:
            scout = self.scout
            assert scout is not None
            if not scout.busy and not self.queue:
                return  # nobody asked for these bytes: they go on unread, as h11 leaves them
        lag.append(data)
        self.lagged += len(data)
        if len(lag) >= LAG_READS or self.lagged > SCOUT_LIMIT:
            self._catch_up()

    def _catch_up(self) -> None:
        """Scout the answers' reads that went on before it read them, in order.

        The request side calls this before a request is owed an answer (a vouched request once
        it went on, while the upstream answers it; one h11 reads before it is decided): these
        reads then meet the answers owed when they came, not that one, and if they show the
        connection is not HTTP the request goes on untouched. Handing the stream to h11
        (`_go_exact`, which every decision that needs the answers' boundaries makes) calls it
        first, so those boundaries are read by then; the end of the stream calls it too.
        """
        lag, self.lag = self.lag, []
        self.lagged = 0
        ts = monotonic()
        for data in lag:
            if self.passthrough or self.dead or self.out_closed:
                return
            if self.scout is not None:
                if self._scout_answer(data):
                    continue
                self._go_exact(ts)  # h11 reads from the start of the message the scout was in
            self._reread(data, ts)

    def _scout_answer(self, data: bytes) -> bool:
        scout = self.scout
        assert isinstance(scout, ResponseScout)
        queue = self.queue
        if not scout.busy and not queue:
            return True  # nobody asked for these bytes: they went on unread, as h11 leaves them
        if not scout.feed(data):
            return False
        scout.commit(data)
        if scout.final:
            if scout.head:
                self.seen = True
            if scout.done:
                queue.popleft()
        if scout.busy and len(scout.since) > SCOUT_LIMIT:
            self._go_exact(monotonic())  # h11 reads the rest of a long message, not a copy
        elif queue and not scout.busy and not self._plain_answers():
            self._go_exact(monotonic())  # the next answer owed is one to act on
        return True

    def _go_exact(self, ts: float) -> None:
        """Hand the stream to h11 from the start of the message the scout is in."""
        self._catch_up()  # the answers' reads the scout has yet to read come first
        scout, self.scout = self.scout, None
        if scout is None:
            return
        if self.is_request:
            self.reader = Reader.for_request()
        elif scout.busy:
            owed = self._owed()
            self.rule = owed.rule
            self.reader = Reader.for_response(owed.method)
        if scout.busy and self.reader is not None:
            self._reread(bytes(scout.since), ts)

    def _reread(self, data: bytes, ts: float) -> None:
        """h11 reads bytes that went on already (messages nobody acts on): it only catches up."""
        while data and not (self.passthrough or self.dead):
            reader = self.reader
            if reader is None:
                if not self.queue:
                    return  # bytes nobody asked for went on unread, as h11 leaves them
                owed = self._owed()
                self.rule = owed.rule
                reader = self.reader = Reader.for_response(owed.method)
            reader.feed(data)
            self.released = reader.fed
            data = b""
            while True:
                try:
                    event, _ = reader.next_event()
                except h11.RemoteProtocolError:
                    event = None
                if event is h11.NEED_DATA:
                    return
                if isinstance(event, h11.Response):
                    self.seen = True
                elif isinstance(event, h11.EndOfMessage) and not self.is_request:
                    data = reader.leftover()  # the next answer's start, if it came with it
                    self.queue.popleft()
                    self.reader = None
                    self.released = 0
                    if not data:
                        self.scout = self._new_scout()
                    break
                elif not isinstance(event, (h11.Request, h11.Data, h11.InformationalResponse)):
                    self._not_http(b"", ts)  # h11 reads those bytes otherwise than llhttp did
                    return

    def _not_http(self, data: bytes, ts: float) -> None:
        """Stop reading: this connection does not speak HTTP/1.1 (or stopped speaking it)."""
        if not self.seen:
            self.counters.not_http += 1
        for stage in (self, self.peer):
            if stage is not None and not stage.passthrough:
                stage.passthrough = True
                held, stage.held = bytes(stage.held), bytearray()
                if stage.action == DROP:
                    stage._drop(len(held))
                else:
                    stage.box.data(held, ts)
        self.box.data(data, ts)

    # -- the request side --------------------------------------------------------------
    def _claim(self, method: bytes, path: bytes) -> HttpStage | None:
        """Count the request on every http toxic; the oldest that takes it acts on it."""
        chosen: HttpStage | None = None
        for rule in self.rules:
            counters, config = rule.counters, rule.config
            counters.requests += 1
            if not rule.matcher.hits(method, path):
                continue
            counters.matched += 1
            rolled = chosen is None and rule.rng.random() < rule.toxicity
            if rolled and (config.count == 0 or counters.claimed < config.count):
                counters.claimed += 1
                chosen = rule
        return chosen

    def _decide(self, request: h11.Request) -> None:
        peer = self.peer
        if peer is not None and peer.lag:
            peer._catch_up()  # before this request is owed an answer (see `_catch_up`)
            if self.passthrough:
                return  # those answers were not HTTP: it goes on untouched, uncounted
        self.seen = True
        chosen = self._claim(request.method, request_path(request.target))
        rule = chosen or self
        config = rule.config
        act = chosen is not None
        if peer is None or peer.out_closed:
            return  # nobody to carry an answer out: the request goes on untouched
        mode = config.mode if act else None
        if (
            mode is not None
            and config.apply == "before"
            and mode in ("status", "malformed", "truncated")
        ):
            self.action = DROP
            rule.record()
            close = wants_continue(request) or mode == "truncated"
            if mode == "status":
                answer = status_answer(config, close=close)
            elif mode == "malformed":
                answer = malformed_answer(config, None, close=close)
            else:
                answer = truncated_answer()
            peer.queue.append(_Answer(answer, close))
            peer._go_exact(monotonic())
            if close:
                self.dead = True
                self.link.dropped(len(self.held), chunks=0)
                self.held = bytearray()
        else:
            if mode == "slow" and config.apply == "before":
                rule.record()
                self.box.wait(monotonic() + config.delay_ms / 1000.0)
                mode = None
            peer.queue.append(_Expect(request.method, mode, rule))
            if mode is not None or request.method in _UNFRAMED:
                peer._go_exact(monotonic())
        peer._pump_answers()

    # -- the response side -------------------------------------------------------------
    def _pump_answers(self) -> None:
        while self.reader is None and self.queue and isinstance(self.queue[0], _Answer):
            answer = self.queue.popleft()
            assert isinstance(answer, _Answer)
            self._made_up(answer.data)
            if answer.close:
                self.dead = True
                self.box.end(CLOSE)
                return

    def _start_response(self) -> bool:
        """Start reading the answer the upstream owes; False when it owes none."""
        if self.is_request or self.passthrough:
            return False
        self._pump_answers()
        if self.dead or not self.queue:
            return False
        head = self.queue[0]
        assert isinstance(head, _Expect)
        self.reader = Reader.for_response(head.method)
        return True

    def _owed(self) -> _Expect:
        head = self.queue[0]
        assert isinstance(head, _Expect)
        return head

    def _first_byte(self, ts: float) -> None:
        owed = self._owed()
        self.rule = owed.rule
        if owed.mode == "slow":
            owed.rule.record()
            self.box.wait(ts + owed.rule.config.delay_ms / 1000.0)

    def _respond(self, response: h11.Response, consumed: int, ts: float) -> None:
        owed = self._owed()
        mode, rule = owed.mode, owed.rule
        config = rule.config
        self.seen = True
        if mode in ("status", "malformed"):
            self.action = DROP
            rule.record()
            if mode == "status":
                self._made_up(status_answer(config, close=False))
            else:
                self._made_up(malformed_answer(config, response, close=False))
            self._release(consumed, ts)
        elif mode == "lost":
            self.action = DROP
            rule.record()
            self._release(consumed, ts)
            self.dead = True
            self.box.end(CLOSE)
        else:
            self._release(consumed, ts)
            if mode == "drip":
                rule.record()
                self.action = DRIP
            elif mode == "truncated":
                self.cut_at = consumed + config.bytes

    def _cut(self) -> None:
        self.rule.record()
        self.dead = True
        self.link.dropped(len(self.held), chunks=0)
        self.held = bytearray()
        self.box.end(CLOSE)


KIND = ToxicKind(
    "http",
    "HttpToxic",
    (),
    HttpStage,
    parse=parse_http_attributes,
    witness=HttpWitness,
    both_links=True,
    json_schema=http_attributes_schema,
)
