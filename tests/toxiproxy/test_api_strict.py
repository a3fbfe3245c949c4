"""stormproof's deliberate improvements over Toxiproxy 2.12: bad input is a clear 400."""

from __future__ import annotations

import pytest
import requests

from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only


@pytest.fixture
def proxy_url(client, toxiproxy_url):
    client.create_proxy("db", "127.0.0.1:0", "127.0.0.1:20001")
    return toxiproxy_url + "/proxies/db"


def post_toxic(url, body):
    return requests.post(url + "/toxics", json=body, timeout=5)


@pytest.mark.parametrize(
    ("toxic_type", "attributes", "fragment"),
    [
        ("slicer", {"average_size": 0}, "average_size must be at least 1"),
        ("slicer", {"average_size": 10, "size_variation": 11}, "must not be larger than"),
        ("latency", {"latency": -1}, "latency must be at least 0"),
        ("latency", {"jitter": -5}, "jitter must be at least 0"),
        ("bandwidth", {}, "rate must be at least 1"),
        ("bandwidth", {"rate": -1}, "rate must be at least 1"),
        ("timeout", {"timeout": -1}, "timeout must be at least 0"),
        ("timeout", {"timeout": 2**40}, "timeout must be at most"),
        ("limit_data", {"bytes": -1}, "bytes must be at least 0"),
        ("slow_close", {"delay": -1}, "delay must be at least 0"),
        ("reset_peer", {"timeout": -1}, "timeout must be at least 0"),
    ],
)
def test_attributes_that_crash_or_stall_toxiproxy_are_400(
    proxy_url, toxic_type, attributes, fragment
):
    response = post_toxic(proxy_url, {"type": toxic_type, "attributes": attributes})
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert requests.get(proxy_url + "/toxics", timeout=5).json() == []


@pytest.mark.parametrize("toxicity", [-0.1, 1.5])
def test_toxicity_outside_0_1_is_400(proxy_url, toxicity):
    response = post_toxic(proxy_url, {"type": "noop", "toxicity": toxicity})
    assert response.status_code == 400
    assert "toxicity must be between 0 and 1" in response.json()["error"]


def test_fractional_attribute_is_400_and_whole_float_is_accepted(proxy_url):
    response = post_toxic(proxy_url, {"type": "latency", "attributes": {"latency": 1.5}})
    assert response.status_code == 400
    response = post_toxic(proxy_url, {"type": "latency", "attributes": {"latency": 100.0}})
    assert response.status_code == 200
    assert response.json()["attributes"]["latency"] == 100


def test_update_with_a_bad_attribute_is_400_and_changes_nothing(proxy_url):
    post_toxic(proxy_url, {"type": "slicer", "attributes": {"average_size": 10}})
    url = proxy_url + "/toxics/slicer_downstream"
    response = requests.patch(url, json={"attributes": {"size_variation": 50}}, timeout=5)
    assert response.status_code == 400
    assert requests.get(url, timeout=5).json()["attributes"]["size_variation"] == 0


def test_invalid_upstream_address_is_400(client, toxiproxy_url):
    response = requests.post(
        toxiproxy_url + "/proxies",
        json={"name": "x", "listen": "127.0.0.1:0", "upstream": "no-port"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "missing port" in response.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",
        b"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
        b'{"name": "x", "upstream": "a:1", "listen": 12}',
        b'{"name": "x", "upstream": "a:1", "listen": "127.0.0.1:99999"}',
        b'{"name": "x", "upstream": "a:1", "enabled": "yes"}',
        b'{"type": "latency", "attributes": [1]}',
        b'{"type": "latency", "attributes": {"latency": 1e400}}',
        b'{"type": "latency", "toxicity": NaN}',
        b"null",
        b"1e99999",
    ],
)
def test_the_server_survives_garbage_and_answers_json_errors(client, toxiproxy_url, body):
    client.create_proxy("db", "127.0.0.1:0", "127.0.0.1:20001")
    for path in ("/proxies", "/populate", "/proxies/db", "/proxies/db/toxics"):
        response = requests.post(toxiproxy_url + path, data=body, timeout=5)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert response.json()["status"] == response.status_code
    assert requests.get(toxiproxy_url + "/version", timeout=5).status_code == 200
