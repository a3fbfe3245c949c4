"""The user's choice of client, toxiproxy-python 0.1.1, works against the server."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import NotFound, ProxyExists

from tests.toxiproxy._net import connect, round_trip


@pytest.fixture
def toxiproxy(client, toxiproxy_url) -> Iterator[Toxiproxy]:
    parts = urlsplit(toxiproxy_url)
    saved = (APIConsumer.host, APIConsumer.port)
    server = Toxiproxy()
    server.update_api_consumer(parts.hostname, parts.port)
    yield server
    APIConsumer.host, APIConsumer.port = saved


def test_toxiproxy_python_basics(toxiproxy, echo_server):
    assert toxiproxy.running()
    assert toxiproxy.version()
    proxy = toxiproxy.create(upstream=echo_server.addr, name="pyclient")
    assert proxy.listen.startswith("127.0.0.1:")
    assert set(toxiproxy.proxies()) == {"pyclient"}
    with pytest.raises(ProxyExists):
        toxiproxy.create(upstream=echo_server.addr, name="pyclient")

    proxy.add_toxic(type="latency", attributes={"latency": 120})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream"}
    assert toxics["latency_downstream"].attributes == {"latency": 120, "jitter": 0}
    with connect(proxy.listen) as sock:
        assert round_trip(sock) >= 0.12
        proxy.destroy_toxic("latency_downstream")
        assert round_trip(sock) < 0.1
    assert proxy.get_toxic("latency_downstream") is None

    with proxy.down(), pytest.raises(ConnectionRefusedError):
        connect(proxy.listen)
    with connect(proxy.listen) as sock:
        round_trip(sock)

    proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 0})
    assert toxiproxy.reset()
    assert proxy.toxics() == {}

    populated = toxiproxy.populate(
        [{"name": "second", "listen": "127.0.0.1:0", "upstream": echo_server.addr}]
    )
    assert [p.name for p in populated] == ["second"]
    toxiproxy.destroy_all()
    assert toxiproxy.proxies() == {}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("nothing")
