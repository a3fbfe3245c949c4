"""The ``http`` toxic on real sockets: every mode, matching, counts, and HTTP/1.1 edge cases."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import h11
import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer

from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyError
from tests.toxiproxy._http_upstream import http_upstream
from tests.toxiproxy._net import connect, echo, recv_all, serving
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only
TOXIC = "http_downstream"


@pytest.fixture
def upstream() -> Iterator[object]:
    with http_upstream() as server:
        yield server


@pytest.fixture
def listen(client: ToxiproxyClient, upstream) -> str:
    return client.create_proxy("web", "127.0.0.1:0", upstream.addr).listen


_OPEN: list[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _conn(listen: str) -> http.client.HTTPConnection:
    host, port = listen.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    _OPEN.append(conn)
    return conn


def _get(conn: http.client.HTTPConnection, path: str, method: str = "GET", body: bytes = b""):
    conn.request(method, path, body=body or None)
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def _read_responses(sock: socket.socket, methods: list[bytes]) -> list[tuple[int, bytes]]:
    """Read one response per request method with h11 (the test's own parser)."""
    found = []
    pending = b""
    for method in methods:
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        if pending:
            conn.receive_data(pending)
        status, body = 0, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = sock.recv(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        pending = conn.trailing_data[0]
        found.append((status, body))
    return found


def test_status_before_for_the_next_matching_request_only(client, listen, upstream):
    client.add_toxic(
        "web", "http", attributes={"path": "/a/*", "method": "get", "count": 1, "retry_after": "2"}
    )
    conn = _conn(listen)
    assert _get(conn, "/b")[0] == 200
    assert _get(conn, "/a/1", "POST")[0] == 200  # the method does not match
    status, headers, body = _get(conn, "/a/1")
    assert (status, headers["Retry-After"]) == (503, "2")
    assert b"stormproof http toxic" in body
    assert _get(conn, "/a/2")[0] == 200  # count used up: the same connection goes on
    assert upstream.hits == 3  # the faulted request never reached it
    stats = client.toxic_stats("web", TOXIC)
    assert (stats.requests, stats.matched, stats.acted, stats.connections) == (4, 2, 1, 1)


def test_exact_path_and_http_date_retry_after(client, listen, upstream):
    date = "Wed, 21 Oct 2037 07:28:00 GMT"
    client.add_toxic("web", "http", attributes={"path": "/x", "status": 429, "retry_after": date})
    conn = _conn(listen)
    assert _get(conn, "/x/y")[0] == 200
    status, headers, _ = _get(conn, "/x?page=2")
    assert (status, headers["Retry-After"]) == (429, date)


def test_status_after_the_upstream_answered_replaces_the_answer(client, listen, upstream):
    client.add_toxic(
        "web", "http", attributes={"apply": "after", "status": 503, "body": '{"e": 1}'}
    )
    conn = _conn(listen)
    status, _, body = _get(conn, "/orders", "POST", b'{"n": 1}')
    assert (status, body) == (503, b'{"e": 1}')
    assert upstream.hits == 1  # processed, then the answer was replaced
    status, _, body = _get(conn, "/orders", "POST", b'{"n": 2}')
    assert (status, upstream.hits) == (503, 2)


def test_pipelined_requests_keep_their_order(client, listen, upstream):
    client.add_toxic("web", "http", attributes={"path": "/two", "status": 418})
    with connect(listen) as sock:
        sock.sendall(
            b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /three HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /four HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        answers = _read_responses(sock, [b"GET", b"GET", b"HEAD", b"GET"])
    assert [status for status, _ in answers] == [200, 418, 200, 200]
    assert b'"/one"' in answers[0][1]
    assert b'"/four"' in answers[3][1]
    assert [path for _, path, _ in upstream.seen] == ["/one", "/three", "/four"]


def test_chunked_and_content_length_bodies_go_through_untouched(client, listen, upstream):
    client.add_toxic("web", "http", attributes={"path": "/never"})
    with connect(listen) as sock:
        sock.sendall(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
        time.sleep(0.05)
        sock.sendall(b"lo\r\n6\r\n world\r\n0\r\n\r\n")
        sock.sendall(b"PUT /l HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
        answers = _read_responses(sock, [b"POST", b"PUT"])
    assert [status for status, _ in answers] == [200, 200]
    assert upstream.seen == [("POST", "/c", b"hello world"), ("PUT", "/l", b"body")]


def test_expect_100_continue_forwarded_and_answered_before(client, listen, upstream):
    head = b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
    with connect(listen) as sock:
        sock.sendall(head)
        assert sock.recv(100).startswith(b"HTTP/1.1 100")
        sock.sendall(b"abc")
        assert _read_responses(sock, [b"POST"])[0][0] == 200
    client.add_toxic("web", "http", attributes={"path": "/e"})
    with connect(listen) as sock:
        sock.sendall(head)  # the body never comes: the toxic answers at once, and closes
        answer = recv_all(sock)
    assert answer.startswith(b"HTTP/1.1 503")
    assert b"Connection: close" in answer
    assert upstream.hits == 1


def test_a_connection_that_is_not_http_passes_untouched(client):
    with serving(echo) as server:
        listen = client.create_proxy("raw", "127.0.0.1:0", server.addr).listen
        client.add_toxic("raw", "http", attributes={})
        payload = bytes(range(256)) * 40
        with connect(listen) as sock:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock) == payload
        with connect(listen) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            assert recv_all(sock).startswith(b"GET / HTTP/1.1")  # h11 refused it: untouched
    stats = client.toxic_stats("raw", TOXIC)
    assert (stats.not_http, stats.requests, stats.acted) == (2, 0, 0)


def test_slow_delays_the_first_byte_after_and_the_request_before(client, listen, upstream):
    client.add_toxic("web", "http", attributes={"mode": "slow", "apply": "after", "delay_ms": 300})
    conn = _conn(listen)
    started = time.monotonic()
    assert _get(conn, "/s")[0] == 200
    assert time.monotonic() - started >= 0.3
    client.update_toxic("web", TOXIC, attributes={"apply": "before", "delay_ms": 200})
    started = time.monotonic()
    assert _get(conn, "/s")[0] == 200
    assert time.monotonic() - started >= 0.2
    assert client.toxic_stats("web", TOXIC).acted == 2


def test_drip_paces_the_body(client, upstream):
    with http_upstream(pad=30) as padded:
        listen = client.create_proxy("drip", "127.0.0.1:0", padded.addr).listen
        client.add_toxic(
            "drip", "http", attributes={"mode": "drip", "drip_bytes": 20, "delay_ms": 50}
        )
        started = time.monotonic()
        status, _, body = _get(_conn(listen), "/d")
        elapsed = time.monotonic() - started
    assert status == 200
    assert body.startswith(b'{"method": "GET"')
    assert elapsed >= (len(body) // 20 - 1) * 0.05


def test_truncated_after_sends_k_body_bytes_then_closes(client, listen, upstream):
    client.add_toxic("web", "http", attributes={"mode": "truncated", "apply": "after", "bytes": 7})
    conn = _conn(listen)
    conn.request("GET", "/t")
    response = conn.getresponse()
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert caught.value.partial == b'{"metho'
    assert upstream.hits == 1


def test_malformed_after_keeps_status_and_type_and_breaks_the_body(client, listen, upstream):
    client.add_toxic("web", "http", attributes={"mode": "malformed", "apply": "after"})
    status, headers, body = _get(_conn(listen), "/m")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert upstream.hits == 1


def test_lost_forwards_the_request_and_closes_before_any_answer(client, listen, upstream):
    client.add_toxic("web", "http", attributes={"mode": "lost", "method": "POST"})
    conn = _conn(listen)
    with pytest.raises(http.client.RemoteDisconnected):
        _get(conn, "/orders", "POST", b"{}")
    assert upstream.hits == 1
    assert client.toxic_stats("web", TOXIC).acted == 1


@pytest.mark.parametrize(
    ("http_first", "apply", "delayed"),
    [
        (True, "before", True),
        (True, "after", True),
        (False, "after", True),
        (False, "before", False),
    ],
)
def test_other_toxics_in_the_same_chain_in_both_orders(client, listen, http_first, apply, delayed):
    # A made-up answer enters the downstream chain where the http toxic sits: a latency toxic
    # before it in the chain never sees it; one after it delays it like any other answer.
    def add_latency() -> None:
        client.add_toxic("web", "latency", attributes={"latency": 150})

    if not http_first:
        add_latency()
    client.add_toxic("web", "http", attributes={"status": 502, "apply": apply})
    if http_first:
        add_latency()
    started = time.monotonic()
    assert _get(_conn(listen), "/z")[0] == 502
    assert (time.monotonic() - started >= 0.15) is delayed
    # Per chunk: the upstream may write its head and body apart.
    assert (client.toxic_stats("web", "latency_downstream").acted > 0) is delayed


def test_toxicity_is_rolled_per_request(client, listen):
    client.add_toxic("web", "http", toxicity=0.5, attributes={})
    conn = _conn(listen)
    statuses = [_get(conn, f"/r{i}")[0] for i in range(30)]
    assert 0 < statuses.count(503) < 30
    stats = client.toxic_stats("web", TOXIC)
    assert (stats.matched, stats.acted) == (30, statuses.count(503))


def test_removed_toxic_passes_everything(client, listen, upstream):
    client.add_toxic("web", "http", attributes={})
    conn = _conn(listen)
    assert _get(conn, "/a")[0] == 503
    assert [t.type for t in client.toxics("web")] == ["http"]
    client.remove_toxic("web", TOXIC)
    assert _get(conn, "/a")[0] == 200


def test_removing_the_first_of_two_leaves_the_other_reading_a_live_connection(client, listen):
    client.add_toxic("web", "http", name="first", attributes={"path": "/a", "status": 418})
    client.add_toxic("web", "http", name="second", attributes={"path": "/b", "status": 429})
    conn = _conn(listen)
    assert [_get(conn, path)[0] for path in ("/a", "/b")] == [418, 429]
    client.remove_toxic("web", "first")
    assert [_get(conn, path)[0] for path in ("/a", "/b", "/c")] == [200, 429, 200]
    second = client.toxic_stats("web", "second")
    assert (second.requests, second.acted) == (5, 2)


@pytest.mark.parametrize(
    ("attributes", "says"),
    [
        ({"status": 700}, "attribute status"),
        ({"mode": "explode"}, "attribute mode"),
        ({"headers": {"X-A": "1\r\nX-B: 2"}}, "attribute headers"),
        ({"path": "relative"}, "attribute path"),
        ({"count": -1}, "attribute count"),
    ],
)
def test_bad_attributes_are_refused_with_400(client, listen, attributes, says):
    with pytest.raises(ToxiproxyError) as caught:
        client.add_toxic("web", "http", attributes=attributes)
    assert caught.value.status == 400
    assert says in str(caught.value)


def test_several_http_toxics_are_one_rule_set_oldest_first(client, listen, upstream):
    # As a provider's fault rules: each request goes to the oldest toxic that takes it, so a
    # 503-after followed by a 400-before answers the first request 503 and the second 400.
    after = {"status": 503, "apply": "after", "count": 1, "method": "POST"}
    before = {"status": 400, "count": 1, "method": "POST"}
    client.add_toxic("web", "http", name="first", attributes=after)
    client.add_toxic("web", "http", name="second", attributes=before)
    conn = _conn(listen)
    assert [_get(conn, "/p", "POST", b"{}")[0] for _ in range(3)] == [503, 400, 200]
    assert upstream.hits == 2  # the 503 one was processed, the 400 one never arrived
    first, second = client.toxic_stats("web", "first"), client.toxic_stats("web", "second")
    assert (first.acted, first.matched, second.acted, second.matched) == (1, 3, 1, 3)


def test_toxiproxy_python_lists_and_deletes_an_http_toxic(client, toxiproxy_url, listen):
    parts = urlsplit(toxiproxy_url)
    saved = (APIConsumer.host, APIConsumer.port)
    try:
        server = Toxiproxy()
        server.update_api_consumer(parts.hostname, parts.port)
        client.add_toxic("web", "http", attributes={"status": 429, "headers": {"X-A": "1"}})
        proxy = server.get_proxy("web")
        toxics = proxy.toxics()
        assert set(toxics) == {TOXIC}
        assert toxics[TOXIC].type == "http"
        assert toxics[TOXIC].attributes["headers"] == {"X-A": "1"}
        proxy.destroy_toxic(TOXIC)
        assert proxy.toxics() == {}
        assert _get(_conn(listen), "/")[0] == 200
    finally:
        APIConsumer.host, APIConsumer.port = saved
