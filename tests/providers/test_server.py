"""Serving providers from code: free ports, explicit ports, busy ports, clean stops."""

from __future__ import annotations

import socket

import pytest
import requests

from stormproof import providers
from stormproof.providers import ProviderStartError, create_app, serve, serve_all


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_all_runs_three_services_on_loopback():
    with serve_all(test_mode=False) as group:
        assert set(group.urls) == set(providers.SERVICES)
        assert len({server.port for server in group}) == 3
        for service, url in group.urls.items():
            assert url.startswith("http://127.0.0.1:")
            assert requests.get(url + "/healthz", timeout=5).json()["service"] == service
        assert requests.get(group["users"].url + "/_test/requests", timeout=5).status_code == 404


def test_explicit_port_and_clean_stop_frees_it():
    port = _free_port()
    server = serve("notifications", port=port)
    assert (server.port, server.url) == (port, f"http://127.0.0.1:{port}")
    assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    server.stop()
    server.stop()  # idempotent
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/healthz", timeout=5)
    # The port can be served again at once.
    with serve("notifications", port=port) as again:
        assert requests.get(again.url + "/healthz", timeout=5).status_code == 200


def test_busy_port_raises_and_serve_all_rolls_back():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(ProviderStartError, match=f"127.0.0.1:{port}"):
            serve("users", port=port)
        free = _free_port()
        with pytest.raises(ProviderStartError):
            serve_all(ports={"users": free, "payments": port})
        # users had started on `free` before payments failed: it was stopped again.
        with serve("users", port=free):
            pass


def test_each_app_has_its_own_state():
    with serve("users") as one, serve("users") as two:
        body = {"email": "ada@example.com", "name": "Ada"}
        assert requests.post(one.url + "/users", json=body, timeout=5).status_code == 201
        assert requests.post(two.url + "/users", json=body, timeout=5).status_code == 201
        assert requests.get(two.url + "/users", timeout=5).json()["total"] == 1


def test_create_app_rejects_unknown_services_and_defaults_to_no_test_mode():
    with pytest.raises(ValueError, match="unknown service 'orders'"):
        create_app("orders")  # type: ignore[arg-type]
    paths = set(create_app("payments").openapi()["paths"])
    assert "/payments" in paths
    assert not any(path.startswith("/_test") for path in paths)
    test_paths = set(create_app("payments", test_mode=True).openapi()["paths"])
    assert {"/_test/faults", "/_test/states", "/_test/ledger"} <= test_paths
