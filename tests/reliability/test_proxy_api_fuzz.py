"""Proxy API robustness: generated JSON and raw bodies against every route of the embedded server.

Every answer is a success, or a 4xx with Toxiproxy's ``{"error": ..., "status": N}`` body; a 500
only where Toxiproxy 2.12 answers one too (a listen address that does not resolve or bind,
``listen tcp ...``). The server still serves afterwards. Listen addresses are drawn from a
loopback-only set: the fuzz never binds anything but 127.0.0.1 / ::1 and never looks up a name.

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
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
names = st.one_of(
    st.sampled_from(["new", BASE_PROXY, BASE_TOXIC, "latency_downstream", ""]),
    st.text(max_size=12),
)
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
            "name": st.sampled_from(["new", "new2", BASE_PROXY]),
            "listen": st.sampled_from(["127.0.0.1:0", "localhost:0", busy]),
            "upstream": st.just("127.0.0.1:1"),
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
            st.sampled_from(ATTRIBUTES), st.integers(0, 1000), max_size=2
        ),
    },
    optional={"name": st.sampled_from(["x", BASE_TOXIC]), "stream": st.just("upstream")},
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


@st.composite
def api_requests(draw: st.DrawFn, busy: str) -> tuple[str, str, bytes, str | None]:
    method, route = draw(st.sampled_from(ROUTES))
    proxy = draw(proxy_in_path.filter(lambda n: n not in {".", ".."}))
    toxic = draw(toxic_in_path.filter(lambda n: n not in {".", ".."}))
    path = route.format(proxy=quote(proxy, safe="") or "%20", toxic=quote(toxic, safe="") or "%20")
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
        value, _ = json.JSONDecoder().raw_decode(body.decode("utf-8").lstrip(" \t\r\n"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return body  # the server refuses it as a bad request body
    creating = path in _PROXY_ROUTES
    objects = value if isinstance(value, list) else [value]
    for obj in objects:
        if isinstance(obj, dict):
            _pin_listen(obj, required=creating)
    return json.dumps(value).encode()


def _pin_listen(obj: dict[str, Any], *, required: bool) -> None:
    keys = [key for key in obj if key.lower() == "listen"]
    if not keys and required:
        obj["listen"] = "127.0.0.1:0"
    for key in keys:
        listen = obj[key]
        if (listen is None and required) or listen == "":
            obj[key] = "127.0.0.1:0"
        elif isinstance(listen, str) and ":" in listen:
            host = listen.rsplit(":", 1)[0].strip("[]")
            if host not in _LOOPBACK_HOSTS:
                obj[key] = "127.0.0.1:0"


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
            api.delete_proxy(name)
        api.create_proxy(BASE_PROXY, "127.0.0.1:0", "127.0.0.1:1")
        api.add_toxic(BASE_PROXY, "latency", name=BASE_TOXIC, attributes={"latency": 1})


def _check(response: requests.Response) -> str:
    status = response.status_code
    if status < 400:
        return f"{status}"
    assert status < 500 or status == 500, status
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    assert isinstance(body["error"], str), body
    assert body["status"] == status, body
    if status >= 500:
        # Toxiproxy answers 500 only when a listen address cannot be resolved or bound.
        assert body["error"].startswith("listen tcp"), body
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
    ],
)
def test_the_fuzz_only_ever_listens_on_loopback(method, path, body, listen):
    sent = json.loads(loopback_only(method, path, body))
    objects = sent if isinstance(sent, list) else [sent]
    assert [value for obj in objects for key, value in obj.items() if key.lower() == "listen"] == [
        listen
    ]
    # Updates without a listen address keep the proxy's own (loopback) one.
    assert loopback_only("PATCH", "/proxies/a", b'{"enabled": true}') == b'{"enabled": true}'
