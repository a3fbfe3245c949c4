"""Proxy API robustness: generated JSON and raw bodies against every route of the embedded server.

Every answer is a success, or a 4xx with Toxiproxy's ``{"error": ..., "status": N}`` body; a 500
only where Toxiproxy 2.12 answers one too and the cause is the machine, not the input (a listen
address already bound, ``listen tcp ...: bind: ...``). After every request each proxy and toxic
is read and deleted through the API, so no input can leave state behind that the API cannot
reach; the seeded server still proxies at the end. Strings are drawn from all of Unicode, lone
UTF-16 surrogates included; numbers include integers far beyond float and int64 and literals
such as ``1e400``; bodies can nest deeper than Python's parser goes or carry thousands of
fields. Listen addresses are drawn from a loopback-only set: the fuzz never binds anything but
127.0.0.1 / ::1 and never looks up a name.

``STORMPROOF_PROXY_FUZZ_EXAMPLES=5000`` runs a larger, randomised campaign.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from stormproof.chaos.toxiproxy._jsonio import same_field
from tests.reliability._figures import count

EXAMPLES = int(os.environ.get("STORMPROOF_PROXY_FUZZ_EXAMPLES", "0"))
BASE_PROXY = "fuzz"
BASE_TOXIC = "t"
TOXIC_TYPES = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer"]
TOXIC_TYPES += ["limit_data", "noop"]
ATTRIBUTES = ["latency", "jitter", "rate", "delay", "timeout", "bytes", "average_size"]
ATTRIBUTES += ["size_variation", "Latency", "unknown"]
ROUTES = (
    ("POST", "/reset"),
    ("GET", "/proxies"),
    ("POST", "/proxies"),
    ("POST", "/populate"),
    ("GET", "/proxies/{proxy}"),
    ("POST", "/proxies/{proxy}"),
    ("PATCH", "/proxies/{proxy}"),
    ("DELETE", "/proxies/{proxy}"),
    ("GET", "/proxies/{proxy}/toxics"),
    ("POST", "/proxies/{proxy}/toxics"),
    ("GET", "/proxies/{proxy}/toxics/{toxic}"),
    ("POST", "/proxies/{proxy}/toxics/{toxic}"),
    ("PATCH", "/proxies/{proxy}/toxics/{toxic}"),
    ("DELETE", "/proxies/{proxy}/toxics/{toxic}"),
    ("GET", "/version"),
)


@dataclass
class Server:
    """The server under test and an address on it that is already taken."""

    url: str
    busy: str
    session: requests.Session


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    taken = socket.create_server(("127.0.0.1", 0))
    busy = f"127.0.0.1:{taken.getsockname()[1]}"
    with EmbeddedToxiproxy(seed=7) as proxy_server, requests.Session() as session:
        yield Server(proxy_server.url, busy, session)
    taken.close()


# -- strategies -------------------------------------------------------------------------------
# Every code point, with lone surrogates (json.dumps writes them as "\ud800" escapes, which Go
# and the server decode to U+FFFD) and URL-significant characters drawn often.
chars = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.sampled_from("/.%{}?#\\\x00 \ufffd"),
)
texts = st.text(chars, max_size=20)
big_integers = st.one_of(
    st.integers(-(10**400), 10**400),
    st.sampled_from([2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**39, 10**309]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    big_integers,
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
names = st.one_of(
    st.sampled_from(["new", BASE_PROXY, BASE_TOXIC, "latency_downstream", "", ".", ".."]),
    st.text(chars, max_size=12),
)
# Number literals json.dumps cannot write: beyond a float, beyond a float32, signed zero.
NUMBER_LITERALS = [b"1e400", b"-1e400", b"1e39", b"-1e39", b"1e-400", b"-0", b"0.5e1"]
NUMBER_LITERALS += [b"1" + b"0" * 400, b"-" + b"9" * 30, b"3.4028235e38", b"1E+2"]
# Paths mostly name what exists, so the handlers behind the 404 checks run too.
proxy_in_path = st.one_of(st.just(BASE_PROXY), st.just(BASE_PROXY), names)
toxic_in_path = st.one_of(st.just(BASE_TOXIC), st.just(BASE_TOXIC), names)


def listen_addresses(busy: str) -> st.SearchStrategy[Any]:
    # Loopback only, no name lookups: unparseable text never contains ':' so it never resolves.
    return st.one_of(
        st.sampled_from(
            [
                "127.0.0.1:0",
                "localhost:0",
                "[::1]:0",
                busy,
                "127.0.0.1:99999",
                "127.0.0.1:-1",
                "127.0.0.1:abc",
                "127.0.0.1:",
                "[127.0.0.1:0",
                "127.0.0.1",
                "::1:0",
            ]
        ),
        st.text(min_size=1, max_size=12).filter(lambda text: ":" not in text),
        scalars.filter(lambda value: value is not None and value != ""),
    )


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(value, scalars)


def proxy_objects(busy: str) -> st.SearchStrategy[dict[str, Any]]:
    valid = st.fixed_dictionaries(
        {
            "name": st.one_of(
                st.sampled_from(["new", "new2", BASE_PROXY]), st.text(chars, min_size=1, max_size=8)
            ),
            "listen": st.sampled_from(["127.0.0.1:0", "localhost:0", busy]),
            "upstream": st.one_of(
                st.just("127.0.0.1:1"), texts.map(lambda text: f"127.0.0.1:1{text}")
            ),
        },
        optional={"enabled": st.booleans()},
    )
    return valid | st.fixed_dictionaries(
        {},
        optional={
            "name": maybe(names),
            "listen": listen_addresses(busy),
            "upstream": maybe(st.sampled_from(["127.0.0.1:1", "localhost:9", "x", ":80", ""])),
            "enabled": maybe(st.booleans()),
            "Name": maybe(names),
        },
    )


valid_toxic = st.fixed_dictionaries(
    {
        "type": st.sampled_from(TOXIC_TYPES),
        "attributes": st.dictionaries(
            st.sampled_from(ATTRIBUTES), st.integers(0, 1000) | big_integers, max_size=2
        ),
    },
    optional={
        "name": st.one_of(st.sampled_from(["x", BASE_TOXIC]), st.text(chars, max_size=8)),
        "stream": st.just("upstream"),
        "toxicity": st.one_of(st.floats(0, 1), big_integers),
    },
)
toxic_objects = valid_toxic | st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(names),
        "type": maybe(st.sampled_from(TOXIC_TYPES)),
        "stream": maybe(st.sampled_from(["upstream", "downstream", "up", "DOWNSTREAM"])),
        "toxicity": maybe(st.floats(-1, 2)),
        "attributes": st.one_of(
            st.dictionaries(
                st.sampled_from(ATTRIBUTES),
                st.one_of(st.integers(-10, 10**6), st.integers(), st.floats(), scalars),
                max_size=3,
            ),
            json_values,
        ),
    },
)


_NUMBER_FIELDS = (b'"toxicity": ', b'"latency": ', b'"enabled": ', b'"rate": ', b'"bytes": ')


@st.composite
def with_literal(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` with one number field's value replaced by a literal json.dumps cannot write."""
    fields = [field for field in _NUMBER_FIELDS if field in body]
    if not fields:
        return body
    field = draw(st.sampled_from(fields))
    head, _, tail = body.partition(field)
    value_end = min((i for i in (tail.find(b","), tail.find(b"}")) if i >= 0), default=len(tail))
    return head + field + draw(st.sampled_from(NUMBER_LITERALS)) + tail[value_end:]


@st.composite
def with_bulk(draw: st.DrawFn, body: bytes) -> bytes:
    """`body` (an object) with an extra field nested deep or spread wide."""
    if not body.endswith(b"}") or body == b"{}":
        return body
    depth = draw(st.sampled_from([10, 500, 990, 1_100, 20_000]))
    width = draw(st.sampled_from([1_000, 20_000]))
    bulk = draw(
        st.sampled_from(
            [
                b"[" * depth + b"]" * depth,
                b'{"a":' * depth + b"1" + b"}" * depth,
                b"[" + b",".join(b"%d" % i for i in range(width)) + b"]",
                b"{" + b",".join(b'"k%d": "v"' % i for i in range(width)) + b"}",
            ]
        )
    )
    return body[:-1] + b', "bulk": ' + bulk + b"}"


def bodies(route: str, busy: str) -> st.SearchStrategy[bytes]:
    if route in {"/proxies", "/proxies/{proxy}"}:
        shaped: st.SearchStrategy[Any] = proxy_objects(busy)
    elif route == "/populate":
        shaped = st.lists(proxy_objects(busy), max_size=3)
    else:
        shaped = toxic_objects
    as_json = st.one_of(shaped, shaped, json_values).map(lambda v: json.dumps(v).encode())
    return st.one_of(
        as_json,
        as_json.flatmap(with_literal),
        as_json.flatmap(with_bulk),
        st.binary(max_size=64),
        st.sampled_from(
            [
                b"",
                b"null",
                b"{",
                b'{"name": "x"} trailing',
                b"\xff\xfe",
                b"[" * 50_000,
                b'{"a":' * 5_000,
            ]
        ),
        st.just(b" " * (5 * 1024 * 1024)),  # above the 4 MB body limit
    )


def _segment(name: str) -> str:
    # A lone surrogate has no UTF-8 form: its bytes as Python would write them make an invalid
    # UTF-8 sequence in the path, another thing a client may send.
    return quote(name.encode("utf-8", "surrogatepass"), safe="") or "%20"


@st.composite
def api_requests(draw: st.DrawFn, busy: str) -> tuple[str, str, bytes, str | None]:
    method, route = draw(st.sampled_from(ROUTES))
    proxy = draw(proxy_in_path.filter(lambda n: n not in {".", ".."}))
    toxic = draw(toxic_in_path.filter(lambda n: n not in {".", ".."}))
    path = route.format(proxy=_segment(proxy), toxic=_segment(toxic))
    content_type = draw(st.sampled_from([None, "application/json", "text/plain", "x/y"]))
    return method, path, draw(bodies(route, busy)), content_type


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_PROXY_ROUTES = ("/proxies", "/populate")


def loopback_only(method: str, path: str, body: bytes) -> bytes:
    """The body, with any listen address that could bind beyond loopback set to 127.0.0.1:0.

    The server reads the first JSON value of a body (trailing bytes ignored), matches field
    names case-insensitively and takes an absent or empty ``listen`` as every interface, as Go
    does. Whatever the generator drew, nothing here may listen on anything but loopback.
    """
    if method not in {"POST", "PATCH"} or not path.startswith(_PROXY_ROUTES) or "/toxics" in path:
        return body
    try:
        text = body.decode("utf-8", errors="replace").lstrip(" \t\r\n")
        value, _ = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return body  # the server refuses it as a bad request body
    creating = path in _PROXY_ROUTES
    objects = value if isinstance(value, list) else [value]
    pinned = [_pin_listen(obj, required=creating) for obj in objects if isinstance(obj, dict)]
    # Re-encoding would turn literals such as 1e400 into "Infinity": keep the body when it can.
    return json.dumps(value).encode() if any(pinned) else body


def _pin_listen(obj: dict[str, Any], *, required: bool) -> bool:
    keys = [key for key in obj if same_field(key, "listen")]
    if not keys and required:
        obj["listen"] = "127.0.0.1:0"
        return True
    changed = False
    for key in keys:
        listen = obj[key]
        if (listen is None and required) or listen == "":
            obj[key] = "127.0.0.1:0"
            changed = True
        elif isinstance(listen, str) and ":" in listen:
            host = listen.rsplit(":", 1)[0].strip("[]")
            if host not in _LOOPBACK_HOSTS:
                obj[key] = "127.0.0.1:0"
                changed = True
    return changed


def _restore(server: Server) -> None:
    """Back to the starting state: only proxy `fuzz`, enabled, with toxic `t`.

    Rebuilt from scratch: a fuzzed update may have left `fuzz` disabled on the busy address,
    which it could not be enabled on again.
    """
    with ToxiproxyClient(server.url) as api:
        for name, proxy in api.proxies().items():
            host = proxy.listen.rsplit(":", 1)[0].strip("[]")
            loopback = host.startswith("127.") or host in _LOOPBACK_HOSTS
            assert loopback, f"{name} listened on {proxy.listen}"
            # Whatever was created must be reachable through the API, by the name it was given.
            assert api.get_proxy(name) == proxy
            for toxic in api.toxics(name):
                assert api.get_toxic(name, toxic.name) == toxic
                assert api.toxic_stats(name, toxic.name).name == toxic.name
                api.remove_toxic(name, toxic.name)
            api.delete_proxy(name)
        api.create_proxy(BASE_PROXY, "127.0.0.1:0", "127.0.0.1:1")
        api.add_toxic(BASE_PROXY, "latency", name=BASE_TOXIC, attributes={"latency": 1})


def _check(response: requests.Response) -> str:
    status = response.status_code
    if status < 400:
        return f"{status}"
    assert status < 500 or status == 500, status
    if status == 404 and response.content == b"404 page not found\n":
        return "404 (no route)"  # the router's own answer, as Toxiproxy's gorilla/mux gives it
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    assert isinstance(body["error"], str), body
    assert body["status"] == status, body
    if status >= 500:
        # The one 500 left is the machine's: an address someone else holds (as in Toxiproxy).
        assert body["error"].startswith("listen tcp"), body
        assert "bind:" in body["error"], body
    return f"{status}"


@settings(
    max_examples=EXAMPLES or 250,
    derandomize=not EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_route_answers_success_or_an_error_body(server: Server, data: st.DataObject) -> None:
    method, path, body, content_type = data.draw(api_requests(server.busy))
    body = loopback_only(method, path, body)
    headers = {"Content-Type": content_type} if content_type else {}
    response = server.session.request(
        method, server.url + path, data=body, headers=headers, timeout=10
    )
    outcome = _check(response)
    event(outcome)
    count("proxy API fuzz (requests)", "total")
    count("proxy API fuzz (requests)", outcome)
    _restore(server)


_CLASS_SETTINGS = settings(
    max_examples=EXAMPLES // 3 or 80,
    derandomize=not EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _send(server: Server, method: str, path: str, body: bytes, section: str) -> str:
    response = server.session.request(method, server.url + path, data=body, timeout=10)
    outcome = _check(response)
    count(section, "total")
    count(section, outcome)
    return outcome


hostile_names = st.one_of(st.sampled_from([".", ".."]), st.text(chars, min_size=1, max_size=12))
# Loopback whatever happens: ports only ever of zeros, in non-ASCII digits Python's int()
# reads (Arabic-Indic, fullwidth, mathematical bold) or refuses (superscript two), or a port
# followed by anything.
hostile_listens = st.one_of(
    st.just("127.0.0.1:0"),
    st.just("127.0.0.1:\u00b2"),
    st.sampled_from(["\u0660", "\u06f0", "\uff10", "\U0001d7ce", "\u00b2"]).map(
        lambda digit: f"127.0.0.1:{digit}"
    ),
    texts.map(lambda text: f"127.0.0.1:0{text}"),
)


@_CLASS_SETTINGS
@given(
    name=hostile_names,
    toxic=hostile_names,
    listen=hostile_listens,
    suffix=st.one_of(st.just(""), texts),
)
def test_any_unicode_in_names_and_addresses_is_answered_and_stays_reachable(
    server: Server, name: str, toxic: str, listen: str, suffix: str
) -> None:
    section = "proxy API fuzz (hostile strings)"
    proxy = {"name": name, "listen": listen, "upstream": f"127.0.0.1:1{suffix}"}
    _send(server, "POST", "/proxies", json.dumps(proxy).encode(), section)
    body = json.dumps({"name": toxic, "type": "latency", "attributes": {"latency": 1}})
    _send(server, "POST", f"/proxies/{_segment(name)}/toxics", body.encode(), section)
    _send(server, "POST", f"/proxies/{BASE_PROXY}/toxics", body.encode(), section)
    populate = [{**proxy, "name": toxic}, {**proxy, "name": name + "2", "listen": "127.0.0.1:0"}]
    _send(server, "POST", "/populate", json.dumps(populate).encode(), section)
    _restore(server)  # reads and deletes every proxy and toxic by the name the API lists


@_CLASS_SETTINGS
@given(
    literal=st.one_of(st.sampled_from(NUMBER_LITERALS), big_integers.map(lambda n: b"%d" % n)),
    field=st.sampled_from(["toxicity", "attribute", "enabled", "update"]),
    attribute=st.sampled_from(ATTRIBUTES),
    type_name=st.sampled_from(TOXIC_TYPES),
)
def test_numbers_beyond_every_go_type_are_answered_and_change_nothing(
    server: Server, literal: bytes, field: str, attribute: str, type_name: str
) -> None:
    section = "proxy API fuzz (hostile numbers)"
    if field == "enabled":
        body = b'{"name": "n", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1", '
        _send(server, "POST", "/proxies", body + b'"enabled": ' + literal + b"}", section)
        return _restore(server)
    if field == "toxicity":
        value = b'"toxicity": ' + literal
    else:
        value = b'"attributes": {"' + attribute.encode() + b'": ' + literal + b"}"
    if field == "update":
        path = f"/proxies/{BASE_PROXY}/toxics/{BASE_TOXIC}"
        _send(server, "PATCH", path, b"{" + value + b"}", section)
    else:
        body = b'{"type": "' + type_name.encode() + b'", "name": "n", ' + value + b"}"
        _send(server, "POST", f"/proxies/{BASE_PROXY}/toxics", body, section)
    return _restore(server)


@_CLASS_SETTINGS
@given(
    shaped=st.one_of(valid_toxic, toxic_objects).map(lambda v: json.dumps(v).encode()),
    route=st.sampled_from(["create", "update", "proxy"]),
    data=st.data(),
)
def test_deep_and_wide_bodies_are_answered_and_change_nothing_else(
    server: Server, shaped: bytes, route: str, data: st.DataObject
) -> None:
    section = "proxy API fuzz (deep and wide)"
    if route == "proxy":
        shaped = b'{"name": "dw", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}'
    body = data.draw(with_bulk(shaped))
    path = {
        "create": f"/proxies/{BASE_PROXY}/toxics",
        "update": f"/proxies/{BASE_PROXY}/toxics/{BASE_TOXIC}",
        "proxy": "/proxies",
    }[route]
    _send(server, "POST", path, body, section)
    _restore(server)


def test_deeply_nested_json_is_a_bad_request_not_an_internal_error(server: Server) -> None:
    # Regression: Python's JSON decoder hit its recursion limit and the server answered 500.
    for path in ("/proxies", "/populate", f"/proxies/{BASE_PROXY}/toxics"):
        for body in (b"[" * 50_000, b'{"a":' * 5_000, b"[" * 3_000 + b"]" * 3_000):
            response = server.session.post(server.url + path, data=body, timeout=10)
            assert response.status_code == 400, response.text
            assert response.json()["error"].startswith("bad request body"), response.text


def test_the_server_still_serves_after_the_fuzz(server: Server) -> None:
    with ToxiproxyClient(server.url) as api:
        assert api.version()
        upstream = socket.create_server(("127.0.0.1", 0))
        try:
            proxy = api.create_proxy(
                "after", "127.0.0.1:0", f"127.0.0.1:{upstream.getsockname()[1]}"
            )
            with socket.create_connection((proxy.host, proxy.port), timeout=5) as client:
                peer, _ = upstream.accept()
                with peer:
                    client.sendall(b"ping")
                    assert peer.recv(4) == b"ping"
            api.delete_proxy("after")
        finally:
            upstream.close()


@pytest.mark.parametrize("name", ["a{b}", "}", "{proxy}", "a b", "é", "a%b"])
def test_any_name_that_can_be_created_can_be_read_and_deleted(server: Server, name: str) -> None:
    # Regression: aiohttp's default route pattern excluded braces, so "a{b}" was created but
    # every later call on it answered "404 page not found".
    with ToxiproxyClient(server.url) as api:
        api.create_proxy(name, "127.0.0.1:0", "127.0.0.1:1")
        api.add_toxic(name, "latency", name=name, attributes={"latency": 5})
        assert api.get_proxy(name).name == name
        assert [toxic.name for toxic in api.toxics(name)] == [name]
        api.remove_toxic(name, name)
        api.delete_proxy(name)
        assert name not in api.proxies()


raw_requests = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda method, target, version, headers, body: (
            f"{method} {target} {version}\r\n".encode("latin-1") + headers + b"\r\n" + body
        ),
        st.sampled_from(["GET", "POST", "PATCH", "DELETE", "BREW", "", "G\x00T"]),
        st.sampled_from(["/proxies", "/version", "/populate", "*", "", "/%", "/" + "a" * 9000]),
        st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/9.9", ""]),
        st.sampled_from(
            [
                b"",
                b"Content-Length: 5\r\n",
                b"Content-Length: -1\r\n",
                b"Content-Length: abc\r\n",
                b"Transfer-Encoding: chunked\r\n",
                b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                b"X: " + b"y" * 20000 + b"\r\n",
                b"no colon here\r\n",
            ]
        ),
        st.binary(max_size=40),
    ),
)


@settings(
    max_examples=EXAMPLES // 5 or 60,
    derandomize=not EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(raw=raw_requests)
def test_malformed_http_never_gets_a_5xx_and_the_server_keeps_serving(
    server: Server, raw: bytes
) -> None:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    status_line = answer.split(b"\r\n", 1)[0]
    if status_line:
        status = int(status_line.split()[1])
        assert status < 500, answer[:300]
        event(str(status))
    else:
        event("closed without an answer")
    count("proxy raw HTTP fuzz", "total")
    assert server.session.get(f"{server.url}/version", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "listen"),
    [
        ("POST", "/proxies", b'{"name": "a", "upstream": "127.0.0.1:1"}', "127.0.0.1:0"),
        ("POST", "/proxies", b'{"name": "a", "listen": null} trailing', "127.0.0.1:0"),
        ("POST", "/proxies", b'  {"LISTEN": "", "name": "a"}', "127.0.0.1:0"),
        ("POST", "/proxies", b'{"listen": "0.0.0.0:80"}', "127.0.0.1:0"),
        ("POST", "/proxies", b'{"listen": ":0"}', "127.0.0.1:0"),
        ("PATCH", "/proxies/a", b'{"listen": "[::]:0"}', "127.0.0.1:0"),
        ("POST", "/populate", b'[{"name": "a"}]', "127.0.0.1:0"),
        ("POST", "/proxies", b'{"listen": "localhost:0"}', "localhost:0"),
        ("POST", "/proxies", b'{"listen": "[::1]:0"}', "[::1]:0"),
        ("POST", "/proxies", '{"li\u017ften": "0.0.0.0:0"}'.encode(), "127.0.0.1:0"),
    ],
)
def test_the_fuzz_only_ever_listens_on_loopback(method, path, body, listen):
    sent = json.loads(loopback_only(method, path, body))
    objects = sent if isinstance(sent, list) else [sent]
    assert [
        value for obj in objects for key, value in obj.items() if same_field(key, "listen")
    ] == [listen]
    # Updates without a listen address keep the proxy's own (loopback) one.
    assert loopback_only("PATCH", "/proxies/a", b'{"enabled": true}') == b'{"enabled": true}'
