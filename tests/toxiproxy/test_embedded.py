"""EmbeddedToxiproxy lifecycle, config, logging and the package's public surface."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest

import stormproof.chaos.toxiproxy
from stormproof.chaos.toxiproxy import ConfigError, EmbeddedToxiproxy, ToxiproxyClient
from tests.toxiproxy._net import TcpServer, closed_by_peer, connect, echo, round_trip


def test_exports_are_sorted_and_complete():
    exported = stormproof.chaos.toxiproxy.__all__
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions.
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    public = {n for n in dir(stormproof.chaos.toxiproxy) if n[0] not in "_@" and n != "annotations"}
    assert set(exported) == public


def test_stop_closes_connections_frees_ports_and_joins_the_thread():
    upstream = TcpServer(echo)
    before = {t.name for t in threading.enumerate()}
    try:
        with EmbeddedToxiproxy() as server:
            assert server.url == f"http://127.0.0.1:{server.port}"
            api = ToxiproxyClient(server.url)
            proxy = api.create_proxy("e", "127.0.0.1:0", upstream.addr)
            sock = connect(proxy.listen, timeout=3)
            round_trip(sock)
            api.close()
        assert closed_by_peer(sock)
        sock.close()
        with pytest.raises(ConnectionRefusedError):
            connect(proxy.listen)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", server.port))
        assert "stormproof-toxiproxy" not in {t.name for t in threading.enumerate()} - before
    finally:
        upstream.close()


def test_config_list_and_file_create_proxies(tmp_path):
    proxies = [{"name": "cfg", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}]
    with EmbeddedToxiproxy(config=proxies) as server:
        assert list(ToxiproxyClient(server.url).proxies()) == ["cfg"]
    path = tmp_path / "toxiproxy.json"
    path.write_text(json.dumps(proxies))
    with EmbeddedToxiproxy(config=path) as server:
        assert list(ToxiproxyClient(server.url).proxies()) == ["cfg"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read config file"),
        ("{nope", "not valid JSON"),
        ("{}", "JSON array"),
        ('[{"name": "x"}]', "missing required field: upstream at proxy 1"),
    ],
)
def test_bad_config_is_a_config_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        EmbeddedToxiproxy(config=path).start()


def test_busy_api_port_is_an_os_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError, match="address already in use"):
            EmbeddedToxiproxy(port=busy.getsockname()[1]).start()


def test_api_changes_and_connections_are_logged(caplog, echo_server):
    caplog.set_level(logging.INFO, logger="stormproof.toxiproxy")
    with EmbeddedToxiproxy() as server:
        api = ToxiproxyClient(server.url)
        proxy = api.create_proxy("logged", "127.0.0.1:0", echo_server.addr)
        api.add_toxic("logged", "latency", attributes={"latency": 1})
        with connect(proxy.listen) as sock:
            round_trip(sock)
        api.remove_toxic("logged", "latency_downstream")
        api.delete_proxy("logged")
        api.close()
    events = [getattr(r, "event", None) for r in caplog.records]
    for event in (
        "proxy.created",
        "toxic.added",
        "connection.accepted",
        "toxic.removed",
        "proxy.deleted",
    ):
        assert event in events
    added = next(r for r in caplog.records if getattr(r, "event", None) == "toxic.added")
    assert added.proxy == "logged"
    assert added.attributes == {"latency": 1, "jitter": 0}


def test_finished_connections_are_forgotten(echo_server):
    with EmbeddedToxiproxy() as server, ToxiproxyClient(server.url) as api:
        good = api.create_proxy("good", "127.0.0.1:0", echo_server.addr)
        dead = api.create_proxy("dead", "127.0.0.1:0", "127.0.0.1:1")
        api.add_toxic("good", "latency", attributes={"latency": 5})
        for _ in range(10):
            with connect(good.listen) as sock:
                round_trip(sock)
            with connect(dead.listen) as sock:
                assert closed_by_peer(sock)
        collection = server._server._collection  # white-box: the leak check needs it
        assert collection is not None
        deadline = time.monotonic() + 3
        while any(p.connections for p in collection.proxies.values()):
            assert time.monotonic() < deadline, "connections were not forgotten"
            time.sleep(0.02)
