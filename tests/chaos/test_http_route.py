"""Where a scenario's `http:` fault goes: one fault rule model, two routes, or a reason."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from stormproof.chaos.runner._environment import ServiceEndpoint
from stormproof.chaos.runner._http_route import proxy_makes_http_faults, toxic_attributes
from stormproof.chaos.runner._injector import FaultInjector
from stormproof.chaos.scenario import HttpFault, ToxicFault
from stormproof.chaos.services import NoAdapter
from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from stormproof.chaos.toxiproxy._toxics import KINDS, parse_attributes
from stormproof.chaos.toxiproxy._toxics._http_attrs import HttpMode
from stormproof.providers._faults import FaultMode, FaultRuleSpec
from stormproof.providers._server import serve

# A real Toxiproxy 2.x server binary: $TOXIPROXY_SERVER, or toxiproxy-server on the PATH.
REAL_TOXIPROXY = os.environ.get("TOXIPROXY_SERVER") or shutil.which("toxiproxy-server")
ENDPOINT = ServiceEndpoint("orders", "orders", "127.0.0.1:1", "127.0.0.1:2", "http://x", "http://y")


def test_every_fault_rule_mode_is_an_http_toxic_mode():
    assert set(typing.get_args(FaultMode)) <= set(typing.get_args(HttpMode))


@pytest.mark.parametrize(
    "rule",
    [
        {},
        {"mode": "slow", "delay_ms": 250, "apply": "after", "count": 3},
        {"status": 429, "retry_after": 2, "method": "get", "path": "/a/*"},
        {"status": 503, "body": {"error": {"type": "unavailable"}}},
        {"mode": "malformed", "apply": "after"},
        {"mode": "truncated", "path": "/x"},
    ],
)
def test_a_fault_rule_maps_onto_http_toxic_attributes_field_for_field(rule):
    spec = FaultRuleSpec.model_validate(rule)
    attrs = parse_attributes(KINDS["http"], toxic_attributes(spec))
    assert (attrs["mode"], attrs["apply"], attrs["count"]) == (spec.mode, spec.apply, spec.count)
    assert (attrs["method"], attrs["path"]) == (spec.method or "", spec.path or "")
    assert (attrs["status"], attrs["delay_ms"]) == (spec.status, spec.delay_ms)
    assert attrs["retry_after"] == (spec.retry_after or "")
    assert attrs["body"] == ("" if spec.body is None else json.dumps(spec.body))


def _injector(*, proxy_http: bool) -> FaultInjector:
    with ToxiproxyClient("http://127.0.0.1:9") as client:
        return FaultInjector(client, ENDPOINT, NoAdapter("http://y"), proxy_http=proxy_http)


def test_http_faults_without_the_proxy_toxic_or_a_fault_api_are_skipped_with_the_reason():
    http = HttpFault(http=FaultRuleSpec(status=503))
    lost = ToxicFault(toxic="http", attributes={"mode": "lost"})
    assert _injector(proxy_http=True).cannot_apply([http, lost]) is None
    reason = _injector(proxy_http=False).cannot_apply([http])
    assert reason is not None
    assert reason.startswith("needs HTTP faults: not supported by this backend")
    reason = _injector(proxy_http=False).cannot_apply([lost])
    assert reason is not None
    assert reason.startswith("needs the embedded proxy: the http toxic")


def test_the_probe_finds_the_http_toxic_on_the_embedded_proxy_and_leaves_nothing():
    with EmbeddedToxiproxy() as server, ToxiproxyClient(server.url) as client:
        client.create_proxy("p", "127.0.0.1:0", "127.0.0.1:1")
        assert proxy_makes_http_faults(client, "p")
        assert client.toxics("p") == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def real_toxiproxy() -> Iterator[str]:
    if not REAL_TOXIPROXY or not Path(REAL_TOXIPROXY).exists():
        pytest.skip("no real Toxiproxy server (set TOXIPROXY_SERVER)")
    port = _free_port()
    process = subprocess.Popen(
        [REAL_TOXIPROXY, "-host", "127.0.0.1", "-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        with ToxiproxyClient(url) as client:
            while True:
                try:
                    client.version()
                    break
                except Exception:
                    assert time.monotonic() < deadline, "the real Toxiproxy did not start"
                    time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_the_probe_reads_a_real_toxiproxys_400_as_no_http_toxic(real_toxiproxy):
    with ToxiproxyClient(real_toxiproxy) as client:
        client.create_proxy("p", "127.0.0.1:0", "127.0.0.1:1")
        assert not proxy_makes_http_faults(client, "p")
        assert client.toxics("p") == []


def _post_and_read_to_close(addr: str, body: bytes) -> tuple[bytes, bytes]:
    """POST /users with `Connection: close`; the answer's head and body as they came."""
    host, port = addr.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        head = (
            "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    found_head, _, found_body = data.partition(b"\r\n\r\n")
    return found_head, found_body


def _declared(head: bytes) -> int:
    return next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )


@pytest.mark.parametrize("mode", ["malformed", "truncated"])
def test_after_the_toxic_keeps_the_upstreams_head_where_the_rule_does_not_quite(mode):
    # docs/http-toxics.md "In scenarios": `malformed` after keeps the upstream's status on the
    # proxy (the rule answers 200); `truncated` after sends no body byte (the rule sends half).
    spec = FaultRuleSpec(mode=mode, apply="after", method="POST")
    users = [json.dumps({"email": f"{n}@example.com", "name": n}).encode() for n in ("a", "b")]
    with serve("users", test_mode=True) as provider, EmbeddedToxiproxy() as server:
        upstream = provider.url.removeprefix("http://")
        with ToxiproxyClient(server.url) as toxiproxy:
            listen = toxiproxy.create_proxy("users", "127.0.0.1:0", upstream).listen
            toxiproxy.add_toxic("users", "http", attributes=toxic_attributes(spec))
            toxic_head, toxic_body = _post_and_read_to_close(listen, users[0])
        answer = requests.post(f"{provider.url}/_test/faults", json=spec.model_dump(), timeout=5)
        answer.raise_for_status()
        rule_head, rule_body = _post_and_read_to_close(upstream, users[1])
    if mode == "malformed":
        assert toxic_head.startswith(b"HTTP/1.1 201 ")
        assert rule_head.startswith(b"HTTP/1.1 200 ")
        for body in (toxic_body, rule_body):
            with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
                json.loads(body)
    else:
        assert toxic_head.startswith(b"HTTP/1.1 201 ")
        assert rule_head.startswith(b"HTTP/1.1 201 ")
        assert toxic_body == b""
        assert 0 < len(rule_body) < _declared(rule_head)
        assert _declared(toxic_head) > 0
