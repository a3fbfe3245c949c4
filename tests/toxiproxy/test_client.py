"""ToxiproxyClient: typed results, errors with status and message, context managers."""

from __future__ import annotations

import dataclasses

import pytest

from stormproof.chaos.toxiproxy import (
    Proxy,
    ProxySpec,
    Toxic,
    ToxicSpec,
    ToxiproxyBadRequestError,
    ToxiproxyClient,
    ToxiproxyConflictError,
    ToxiproxyConnectionError,
    ToxiproxyError,
    ToxiproxyNotFoundError,
    ToxiproxyServerError,
)
from tests.toxiproxy._net import connect, free_port, round_trip


def test_version_is_a_string(client):
    assert client.version()


def test_create_get_list_update_delete(client, echo_server):
    created = client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    assert isinstance(created, Proxy)
    assert created.enabled
    assert created.port > 0
    assert created.host == "127.0.0.1"
    assert client.get_proxy("api") == created
    assert client.proxies() == {"api": created}
    assert client.disable("api").enabled is False
    assert client.enable("api").enabled is True
    updated = client.update_proxy("api", upstream="127.0.0.1:1")
    assert updated.upstream == "127.0.0.1:1"
    client.delete_proxy("api")
    assert client.proxies() == {}


def test_toxic_lifecycle_returns_frozen_models(client, echo_server):
    client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    toxic = client.add_toxic("api", "latency", attributes={"latency": 10}, toxicity=0.5)
    assert toxic == Toxic(
        "latency_downstream", "latency", "downstream", 0.5, {"latency": 10, "jitter": 0}
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        toxic.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        toxic.attributes["latency"] = 5  # type: ignore[index]
    assert client.toxics("api") == [toxic]
    assert client.get_toxic("api", "latency_downstream") == toxic
    changed = client.update_toxic("api", "latency_downstream", attributes={"jitter": 3})
    assert changed.attributes == {"latency": 10, "jitter": 3}
    assert changed.toxicity == 0.5
    assert client.update_toxic("api", "latency_downstream", toxicity=1.0).toxicity == 1.0
    assert client.get_proxy("api").toxics == (
        changed.__class__(**{**dataclasses.asdict(changed), "toxicity": 1.0}),
    )
    client.remove_toxic("api", "latency_downstream")
    assert client.toxics("api") == []


def test_errors_carry_status_and_message(client, echo_server):
    with pytest.raises(ToxiproxyNotFoundError) as missing:
        client.get_proxy("nope")
    assert missing.value.status == 404
    assert missing.value.message == "proxy not found"
    assert str(missing.value) == "HTTP 404: proxy not found"
    client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    with pytest.raises(ToxiproxyConflictError) as conflict:
        client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    assert conflict.value.status == 409
    with pytest.raises(ToxiproxyBadRequestError) as bad:
        client.add_toxic("api", "walrus")
    assert bad.value.message == "invalid toxic type"
    busy = client.get_proxy("api").listen
    with pytest.raises(ToxiproxyServerError) as server_error:
        client.create_proxy("other", busy, echo_server.addr)
    assert "address already in use" in server_error.value.message
    assert isinstance(server_error.value, ToxiproxyError)


def test_no_server_is_a_connection_error():
    api = ToxiproxyClient(f"http://127.0.0.1:{free_port()}", timeout=1.0)
    with pytest.raises(ToxiproxyConnectionError) as raised:
        api.version()
    assert raised.value.status == 0
    assert str(raised.value).endswith("/version failed: connection refused")


def test_toxic_context_manager_removes_the_toxic_even_on_error(client, echo_server):
    proxy = client.create_proxy("api", "127.0.0.1:0", echo_server.addr)

    def use_toxic(sock) -> None:
        with client.toxic("api", "latency", attributes={"latency": 150}) as added:
            assert added.name == "latency_downstream"
            assert round_trip(sock) >= 0.15
            raise RuntimeError("boom")

    with connect(proxy.listen) as sock:
        with pytest.raises(RuntimeError, match="boom"):
            use_toxic(sock)
        assert client.toxics("api") == []
        assert round_trip(sock) < 0.1


def test_toxics_context_manager_applies_and_removes_all(client, echo_server):
    client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    specs = [
        ToxicSpec("latency", attributes={"latency": 5}),
        ToxicSpec("bandwidth", stream="upstream", attributes={"rate": 1000}, name="bw"),
    ]
    with client.toxics("api", specs) as added:
        assert [t.name for t in added] == ["latency_downstream", "bw"]
        assert len(client.toxics("api")) == 2
    assert client.toxics("api") == []


def test_toxics_context_manager_undoes_a_partial_apply(client, echo_server):
    client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    specs = [ToxicSpec("latency"), ToxicSpec("walrus")]
    with pytest.raises(ToxiproxyBadRequestError), client.toxics("api", specs):
        pass
    assert client.toxics("api") == []


def test_toxic_context_manager_tolerates_a_reset_inside(client, echo_server):
    client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    with client.toxic("api", "latency"):
        client.reset()
    assert client.toxics("api") == []


def test_disabled_context_manager_restores_the_proxy(client, echo_server):
    proxy = client.create_proxy("api", "127.0.0.1:0", echo_server.addr)
    with client.disabled("api") as down:
        assert down.enabled is False
        with pytest.raises(ConnectionRefusedError):
            connect(proxy.listen)
    assert client.get_proxy("api").enabled
    with connect(proxy.listen) as sock:
        round_trip(sock)


def test_populate_takes_specs_and_mappings(client, echo_server):
    proxies = client.populate(
        [
            ProxySpec("a", "127.0.0.1:0", echo_server.addr),
            {"name": "b", "listen": "127.0.0.1:0", "upstream": echo_server.addr, "enabled": False},
        ]
    )
    assert [(p.name, p.enabled) for p in proxies] == [("a", True), ("b", False)]
    assert client.populate([]) == []
    with pytest.raises(ToxiproxyBadRequestError):
        client.populate([{"name": "", "upstream": "x:1"}])


def test_reset_reenables_and_clears(client, echo_server):
    client.create_proxy("api", "127.0.0.1:0", echo_server.addr, enabled=False)
    client.add_toxic("api", "noop")
    client.reset()
    proxy = client.get_proxy("api")
    assert proxy.enabled
    assert proxy.toxics == ()
