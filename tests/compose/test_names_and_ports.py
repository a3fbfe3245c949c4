"""One source of truth: the Toxiproxy config, the runner's environment file and the compose file."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from stormproof.chaos.runner import read_environment_file
from stormproof.chaos.services import demo_config_path, load_config
from tests.compose._files import ENVIRONMENT_FILE, compose, host_port, toxiproxy_config

SERVICES = tuple(load_config(demo_config_path()).services)


@pytest.fixture(scope="module")
def attached():
    """The environment file as the compose runner reads it (no variables set: the defaults)."""
    return read_environment_file(ENVIRONMENT_FILE, environ={})


def test_one_proxy_per_service_with_the_same_names(attached):
    _, endpoints = attached
    config_names = [proxy["name"] for proxy in toxiproxy_config()]
    assert len(config_names) == len(set(config_names)) == len(SERVICES)
    assert sorted(config_names) == sorted(endpoint.proxy for endpoint in endpoints.values())


def test_listen_addresses_and_upstreams_agree(attached):
    _, endpoints = attached
    by_name = {endpoint.proxy: endpoint for endpoint in endpoints.values()}
    for proxy in toxiproxy_config():
        endpoint = by_name[proxy["name"]]
        assert proxy["listen"] == endpoint.listen, proxy["name"]
        assert proxy["upstream"] == endpoint.upstream, proxy["name"]
        assert proxy.get("enabled", True) is True


def test_ports_are_distinct_and_fixed(attached):
    _, endpoints = attached
    listen_ports = [host_port(e.listen)[1] for e in endpoints.values()]
    upstream_ports = [host_port(e.upstream)[1] for e in endpoints.values()]
    assert len(set(listen_ports)) == len(listen_ports)
    assert len(set(upstream_ports)) == len(upstream_ports)
    assert 0 not in listen_ports + upstream_ports


def test_clients_go_through_the_proxy_and_faults_go_straight_to_the_provider(attached):
    _, endpoints = attached
    for name, endpoint in endpoints.items():
        client = urlsplit(endpoint.client_url)
        assert client.hostname == "toxiproxy", name
        assert client.port == host_port(endpoint.listen)[1], name
        provider = urlsplit(endpoint.provider_url)
        assert (provider.hostname, provider.port) == host_port(endpoint.upstream), name


def test_toxiproxy_url_is_the_compose_service_and_its_api_port(attached):
    url, _ = attached
    services = compose()["services"]
    parts = urlsplit(url)
    assert parts.hostname == "toxiproxy"
    assert "-port=8474" in services["toxiproxy"]["command"]
    assert parts.port == 8474


def test_upstreams_are_the_ports_the_providers_container_serves(attached):
    _, endpoints = attached
    services = compose()["services"]
    command = services["providers"]["command"]
    base = int(command[command.index("--port-base") + 1])
    # `stormproof providers --port-base N`: users on N, notifications on N+1, payments on N+2.
    expected = {name: base + offset for offset, name in enumerate(SERVICES)}
    for name, endpoint in endpoints.items():
        host, port = host_port(endpoint.upstream)
        assert host == "providers", name
        assert port == expected[name], name
        healthcheck = " ".join(services["providers"]["healthcheck"]["test"])
        assert str(port) in healthcheck, f"the providers' healthcheck does not probe {port}"


def test_published_ports_match_the_proxies_and_the_providers(attached):
    _, endpoints = attached
    services = compose()["services"]

    def published(service: str) -> set[int]:
        return {int(mapping.split(":")[1]) for mapping in services[service]["ports"]}

    assert published("toxiproxy") == {8474} | {host_port(e.listen)[1] for e in endpoints.values()}
    assert published("providers") == {host_port(e.upstream)[1] for e in endpoints.values()}


def test_toxiproxy_healthcheck_asks_for_a_proxy_the_config_creates():
    test = compose()["services"]["toxiproxy"]["healthcheck"]["test"]
    assert test[-2] == "inspect"
    # The last one: Toxiproxy creates the file's proxies in order.
    assert test[-1] == toxiproxy_config()[-1]["name"]


def test_every_variable_of_the_environment_file_can_move_a_host_or_a_port():
    overrides = {
        "TOXIPROXY_URL": "http://127.0.0.1:9474",
        "STORMPROOF_PROXY_HOST": "127.0.0.2",
        "STORMPROOF_PROXY_LISTEN_HOST": "127.0.0.3",
        "STORMPROOF_UPSTREAM_HOST": "127.0.0.4",
        "STORMPROOF_PROVIDERS_HOST": "127.0.0.5",
        "STORMPROOF_USERS_PROXY_PORT": "21001",
        "STORMPROOF_USERS_PORT": "22001",
    }
    url, endpoints = read_environment_file(ENVIRONMENT_FILE, environ=overrides)
    assert url == "http://127.0.0.1:9474"
    users = endpoints["users"]
    assert users.listen == "127.0.0.3:21001"
    assert users.client_url == "http://127.0.0.2:21001"
    assert users.upstream == "127.0.0.4:22001"
    assert users.provider_url == "http://127.0.0.5:22001"
    assert endpoints["payments"].listen == "127.0.0.3:18003"
