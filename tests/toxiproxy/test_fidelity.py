"""Toxiproxy 2.12 fidelity: request ids, /metrics, reset_peer on open connections, hostile JSON.

Runs against the embedded server, or a real one with TOXIPROXY_URL. The /metrics cases start a
server process of their own with the metrics flags: ``stormproof proxy``, or the binary named by
TOXIPROXY_SERVER (e.g. a locally built ``toxiproxy-server``) when TOXIPROXY_URL is set.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.toxiproxy._net import connect, echo, free_port, recv_exactly, serving
from tests.toxiproxy.conftest import EXTERNAL_URL, embedded_only

UA = {"User-Agent": "stormproof-tests"}
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}
REQUEST_ID = "X-Toxiproxy-Request-Id"
REAL_SERVER = os.environ.get("TOXIPROXY_SERVER")


def _get(url: str, method: str = "GET", **kwargs: object) -> requests.Response:
    headers = kwargs.pop("headers", UA)
    return requests.request(method, url, headers=headers, timeout=5, **kwargs)  # type: ignore[arg-type]


# -- X-Toxiproxy-Request-Id -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nope", 404), ("GET", "/proxies/a/b/c", 404), ("PUT", "/proxies", 405)],
)
def test_router_answers_carry_no_request_id_and_skip_the_browser_check(
    client, toxiproxy_url, method, path, status
):
    for headers in (UA, BROWSER):
        response = _get(toxiproxy_url + path, method, headers=headers)
        assert response.status_code == status
        assert REQUEST_ID not in response.headers
    if status == 404:
        assert response.content == b"404 page not found\n"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    else:
        assert response.content == b""


def test_answers_of_a_matched_route_carry_a_request_id(client, toxiproxy_url):
    for method, path, headers, status in (
        ("GET", "/version", UA, 200),
        ("GET", "/proxies/missing", UA, 404),
        ("POST", "/proxies", UA, 400),
        ("GET", "/version", BROWSER, 403),
    ):
        response = _get(toxiproxy_url + path, method, headers=headers)
        assert response.status_code == status
        assert response.headers.get(REQUEST_ID)


def test_metrics_is_not_served_without_the_flags(client, toxiproxy_url):
    response = _get(toxiproxy_url + "/metrics")
    assert response.status_code == 404
    assert REQUEST_ID not in response.headers


# -- /metrics ---------------------------------------------------------------------------------
@contextlib.contextmanager
def _server_with(*flags: str) -> Iterator[str]:
    if EXTERNAL_URL is not None and REAL_SERVER is None:
        pytest.skip("set TOXIPROXY_SERVER to the toxiproxy-server binary to check /metrics")
    port = free_port()
    if REAL_SERVER is not None:
        command = [REAL_SERVER]
    else:
        command = [sys.executable, "-c", "from stormproof.chaos.cli import main; main()", "proxy"]
    command += ["-host", "127.0.0.1", "-port", str(port), *flags]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(requests.ConnectionError):
                if _get(url + "/version").status_code == 200:
                    break
            assert process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _toxiproxy_lines(url: str) -> list[str]:
    text = _get(url + "/metrics").text
    return [line for line in text.splitlines() if "toxiproxy_" in line]


def test_proxy_metrics_count_bytes_per_link_when_it_ends(tmp_path):
    with _server_with("-proxy-metrics") as url, serving(echo) as upstream:
        body = {"name": "m", "listen": "127.0.0.1:0", "upstream": upstream.addr}
        listen = requests.post(url + "/proxies", json=body, headers=UA, timeout=5).json()["listen"]
        assert not [line for line in _toxiproxy_lines(url) if not line.startswith("#")]
        with connect(listen) as sock:
            payload = b"x" * 1_234_567
            sock.sendall(payload)
            assert recv_exactly(sock, len(payload)) == payload
            # Toxiproxy counts a link's bytes when the link ends, not as they flow.
            assert not [line for line in _toxiproxy_lines(url) if not line.startswith("#")]
        labels = f'listener="{listen}",proxy="m",upstream="{upstream.addr}"'
        expected = [
            "# HELP toxiproxy_proxy_received_bytes_total ",
            "# TYPE toxiproxy_proxy_received_bytes_total counter",
            f'toxiproxy_proxy_received_bytes_total{{direction="downstream",{labels}}} 1.234567e+06',
            f'toxiproxy_proxy_received_bytes_total{{direction="upstream",{labels}}} 1.234567e+06',
            "# HELP toxiproxy_proxy_sent_bytes_total ",
            "# TYPE toxiproxy_proxy_sent_bytes_total counter",
            f'toxiproxy_proxy_sent_bytes_total{{direction="downstream",{labels}}} 1.234567e+06',
            f'toxiproxy_proxy_sent_bytes_total{{direction="upstream",{labels}}} 1.234567e+06',
        ]
        deadline = time.monotonic() + 5
        while _toxiproxy_lines(url) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _toxiproxy_lines(url) == expected
        with connect(listen) as sock:
            sock.sendall(b"ab")
            assert recv_exactly(sock, 2) == b"ab"
        time.sleep(0.3)
        sent_up = f'toxiproxy_proxy_sent_bytes_total{{direction="upstream",{labels}}}'
        assert f"{sent_up} 1.234569e+06" in _toxiproxy_lines(url)
        response = _get(url + "/metrics")
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert response.headers.get(REQUEST_ID)
        assert "process_" not in response.text


def test_runtime_metrics_any_method_gzip_and_the_browser_check():
    with _server_with("-runtime-metrics") as url:
        for method in ("GET", "POST", "DELETE"):
            response = _get(url + "/metrics", method)
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        names = set(re.findall(r"^# TYPE (\S+)", response.text, re.MULTILINE))
        assert {"process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds"} <= (
            names
        )
        assert "toxiproxy_proxy_received_bytes_total" not in names
        raw = requests.get(
            url + "/metrics", headers={**UA, "Accept-Encoding": "gzip"}, timeout=5, stream=True
        )
        assert raw.headers["Content-Encoding"] == "gzip"
        assert b"process_open_fds" in gzip.decompress(raw.raw.read())
        assert _get(url + "/metrics", headers=BROWSER).status_code == 403


# -- reset_peer -------------------------------------------------------------------------------
def _outcome(sock: socket.socket) -> str:
    sock.settimeout(3)
    try:
        return "eof" if sock.recv(100) == b"" else "data"
    except ConnectionResetError:
        return "reset"


def _pair(client, server_sock, stream: str, *, toxicity: float = 1.0, live: bool):
    proxy = client.create_proxy("rp", "127.0.0.1:0", f"127.0.0.1:{server_sock.getsockname()[1]}")
    spec = {"stream": stream, "toxicity": toxicity, "attributes": {"timeout": 0}}
    if not live:
        client.add_toxic("rp", "reset_peer", **spec)
    sock = connect(proxy.listen)
    peer, _ = server_sock.accept()
    if live:
        sock.sendall(b"hi")
        assert recv_exactly(peer, 2) == b"hi"
        client.add_toxic("rp", "reset_peer", **spec)
    return sock, peer


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_added_to_an_open_connection_closes_it_cleanly(client, stream):
    with socket.create_server(("127.0.0.1", 0)) as server_sock:
        sock, peer = _pair(client, server_sock, stream, live=True)
        with sock, peer:
            (sock if stream == "upstream" else peer).sendall(b"data")
            # Toxiproxy sets SO_LINGER 0 only when a connection starts: no RST here.
            assert (_outcome(sock), _outcome(peer)) == ("eof", "eof")


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_on_a_new_connection_resets_both_ends(client, stream):
    with socket.create_server(("127.0.0.1", 0)) as server_sock:
        sock, peer = _pair(client, server_sock, stream, live=False)
        with sock, peer:
            (sock if stream == "upstream" else peer).sendall(b"data")
            assert (_outcome(sock), _outcome(peer)) == ("reset", "reset")


@embedded_only
def test_reset_peer_left_out_by_toxicity_does_not_turn_a_close_into_a_reset(client):
    # Toxiproxy issue #603: it sets SO_LINGER 0 whenever reset_peer is in the chain, so a
    # connection it did not pick still ends with an RST when either side closes.
    with socket.create_server(("127.0.0.1", 0)) as server_sock:
        sock, peer = _pair(client, server_sock, "downstream", toxicity=0.0, live=False)
        with sock:
            sock.sendall(b"hi")
            assert recv_exactly(peer, 2) == b"hi"
            peer.close()
            assert _outcome(sock) == "eof"


@embedded_only
def test_removing_reset_peer_leaves_a_clean_close(client):
    # Toxiproxy keeps SO_LINGER 0 on a connection that started with reset_peer in its chain.
    with socket.create_server(("127.0.0.1", 0)) as server_sock:
        sock, peer = _pair(client, server_sock, "downstream", live=False)
        client.remove_toxic("rp", "reset_peer_downstream")
        with sock:
            sock.sendall(b"hi")
            assert recv_exactly(peer, 2) == b"hi"
            peer.close()
            assert _outcome(sock) == "eof"


@embedded_only
def test_runtime_metrics_are_the_python_process_s():
    with _server_with("-runtime-metrics") as url:
        names = set(re.findall(r"^# TYPE (\S+)", _get(url + "/metrics").text, re.MULTILINE))
    assert {"python_info", "python_gc_objects_collected_total"} <= names
    assert not [name for name in names if name.startswith("go_")]


@embedded_only
def test_json_nested_past_python_s_parser_and_bodies_over_4_mib_are_refused(client, toxiproxy_url):
    deep = b'{"name": "d", "upstream": "127.0.0.1:9", "x": ' + b"[" * 1_100 + b"]" * 1_100 + b"}"
    response = _raw(toxiproxy_url, "POST", "/proxies", deep)
    assert response.status_code == 400
    assert response.json()["error"].startswith("bad request body")
    big = b'{"name": "b", "upstream": "127.0.0.1:9", "x": "' + b"y" * (5 * 2**20) + b'"}'
    assert _raw(toxiproxy_url, "POST", "/proxies", big).status_code == 413
    assert client.proxies() == {}


# -- hostile JSON -----------------------------------------------------------------------------
def _raw(url: str, method: str, path: str, body: bytes) -> requests.Response:
    return requests.request(method, url + path, data=body, headers=UA, timeout=5)


def test_lone_surrogates_become_u_fffd_and_stay_addressable(client, toxiproxy_url):
    body = b'{"name": "a\\ud800b\\udfff", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}'
    created = _raw(toxiproxy_url, "POST", "/proxies", body)
    assert created.status_code == 201, created.text
    name = "a\ufffdb\ufffd"
    assert created.json()["name"] == name
    toxic = b'{"type": "latency", "name": "t\\udc00", "attributes": {"latency": 1}}'
    added = _raw(toxiproxy_url, "POST", "/proxies/a%EF%BF%BDb%EF%BF%BD/toxics", toxic)
    assert added.status_code == 200, added.text
    assert name in client.proxies()
    assert [t.name for t in client.toxics(name)] == ["t\ufffd"]
    client.remove_toxic(name, "t\ufffd")
    client.delete_proxy(name)
    assert client.proxies() == {}


def test_invalid_utf8_in_a_string_becomes_u_fffd(client, toxiproxy_url):
    body = b'{"name": "bad\xff", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}'
    created = _raw(toxiproxy_url, "POST", "/proxies", body)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "bad\ufffd"


@pytest.mark.parametrize(
    ("field", "literal", "where"),
    [
        ("toxicity", b"1" + b"0" * 400, "ToxicWrapper.toxicity of type float32"),
        ("toxicity", b"1e400", "ToxicWrapper.toxicity of type float32"),
        ("toxicity", b"1e39", "ToxicWrapper.toxicity of type float32"),
        ("latency", b"1" + b"0" * 400, "LatencyToxic.attributes.latency of type int64"),
        ("latency", b"-1e400", "LatencyToxic.attributes.latency of type int64"),
    ],
)
def test_numbers_too_large_for_their_go_type_are_a_bad_request(
    client, toxiproxy_url, field, literal, where
):
    client.create_proxy("big", "127.0.0.1:0", "127.0.0.1:9")
    value = b'{"latency": ' + literal + b"}" if field == "latency" else literal
    key = b"attributes" if field == "latency" else b"toxicity"
    body = b'{"type": "latency", "' + key + b'": ' + value + b"}"
    response = _raw(toxiproxy_url, "POST", "/proxies/big/toxics", body)
    assert response.status_code == 400, response.text
    message = f"bad request body: json: cannot unmarshal number {literal.decode()} into Go struct"
    assert response.json() == {"error": f"{message} field {where}", "status": 400}
    assert client.toxics("big") == []


def test_deep_and_wide_json_leave_the_state_intact(client, toxiproxy_url):
    client.create_proxy("keep", "127.0.0.1:0", "127.0.0.1:9")
    wide = b'{"name": "w", "upstream": "127.0.0.1:9", "listen": "127.0.0.1:0", "x": ['
    wide += b",".join(b'{"k%d": [1, "s", null]}' % i for i in range(20_000)) + b"]}"
    assert _raw(toxiproxy_url, "POST", "/proxies", wide).status_code == 201
    deep = b'{"type": "noop", "attributes": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    assert _raw(toxiproxy_url, "POST", "/proxies/keep/toxics", deep).status_code == 400
    assert sorted(client.proxies()) == ["keep", "w"]
    assert client.toxics("keep") == []


def test_a_long_name_is_readable_and_deletable(client):
    name = "é" * 20_000  # 40,000 bytes, 120,000 once percent-encoded in a URL
    client.create_proxy(name, "127.0.0.1:0", "127.0.0.1:9")
    client.add_toxic(name, "noop", name=name)
    assert client.get_toxic(name, name).name == name
    client.remove_toxic(name, name)
    client.delete_proxy(name)
    assert client.proxies() == {}


@embedded_only
@pytest.mark.parametrize("name", [".", ".."])
def test_a_name_no_url_can_address_is_refused(client, toxiproxy_url, name):
    # Toxiproxy creates these, then answers 404 to every request about them.
    body = {"name": name, "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}
    response = requests.post(toxiproxy_url + "/proxies", json=body, headers=UA, timeout=5)
    assert response.status_code == 400
    client.create_proxy("p", "127.0.0.1:0", "127.0.0.1:9")
    toxic = {"type": "noop", "name": name}
    response = requests.post(toxiproxy_url + "/proxies/p/toxics", json=toxic, headers=UA, timeout=5)
    assert response.status_code == 400
    assert list(client.proxies()) == ["p"]


@embedded_only
@pytest.mark.parametrize(
    "listen", ["\\ud800:0", "127.0.0.1:0\\ud800", "127.0.0.1:\\u00b2", "127.0.0.1:\\u0661"]
)
def test_a_listen_address_that_cannot_parse_is_a_bad_request(client, toxiproxy_url, listen):
    # Toxiproxy answers 500 (a failed lookup or an unknown port) for these.
    body = b'{"name": "l", "upstream": "127.0.0.1:9", "listen": "' + listen.encode() + b'"}'
    response = _raw(toxiproxy_url, "POST", "/proxies", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("listen tcp: address")


def test_a_seeded_server_still_proxies_after_hostile_requests(client, toxiproxy_url):
    for body in (
        b'{"name": "\\udbff", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}',
        b'{"name": "x", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9", "enabled": 1e999}',
        b"[" * 100_000,
    ):
        assert _raw(toxiproxy_url, "POST", "/proxies", body).status_code < 500
    with serving(echo) as upstream:
        proxy = client.create_proxy("after", "127.0.0.1:0", upstream.addr)
        with connect(proxy.listen) as sock:
            sock.sendall(b"ping")
            assert recv_exactly(sock, 4) == b"ping"
    for name in client.proxies():
        client.delete_proxy(name)
    assert client.proxies() == {}


def test_field_names_fold_case_as_go_does(client, toxiproxy_url):
    # Go's decoder folds with Unicode simple folding: the long s is an "s".
    body = '{"name": "f", "li\u017ften": "127.0.0.2:0", "UPSTREAM": "127.0.0.1:9"}'
    created = _raw(toxiproxy_url, "POST", "/proxies", body.encode())
    assert created.status_code == 201, created.text
    assert created.json()["listen"].startswith("127.0.0.2:")
    toxic = '{"type": "slicer", "\u017ftream": "upstream", "attributes": {"average_\u017fize": 5}}'
    added = _raw(toxiproxy_url, "POST", "/proxies/f/toxics", toxic.encode())
    assert added.status_code == 200, added.text
    assert added.json()["stream"] == "upstream"
    assert added.json()["attributes"]["average_size"] == 5
