"""HTTP API conformance: routes, JSON shapes, defaults, status codes and error bodies.

Written from Toxiproxy 2.12's api.go and api_test.go; run against a real server with
TOXIPROXY_URL set.
"""

from __future__ import annotations

import socket

import pytest
import requests

from tests.toxiproxy._net import connect, free_port
from tests.toxiproxy.conftest import embedded_only

UA = {"User-Agent": "stormproof-tests"}


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers.update(UA)

    def call(self, method: str, path: str, json=None, data=None, headers=None):
        return self.session.request(
            method, self.url + path, json=json, data=data, headers=headers, timeout=5
        )


@pytest.fixture
def api(client, toxiproxy_url):
    session = Api(toxiproxy_url)
    yield session
    session.session.close()


def make_proxy(api, name="db", upstream="127.0.0.1:20001", **extra):
    body = {"name": name, "listen": "127.0.0.1:0", "upstream": upstream, **extra}
    response = api.call("POST", "/proxies", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status, message):
    assert response.status_code == status
    body = response.json()
    assert body == {"error": message, "status": status}


# -- server ------------------------------------------------------------------------------
def test_version_is_json_with_a_version_string(api):
    response = api.call("GET", "/version")
    assert response.status_code == 200
    assert isinstance(response.json()["version"], str)


def test_responses_carry_a_request_id(api):
    response = api.call("GET", "/version")
    assert response.headers.get("X-Toxiproxy-Request-Id")


def test_browsers_get_403(api):
    response = api.call("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0 (X11)"})
    assert response.status_code == 403
    assert "User agent not allowed" in response.text


def test_unknown_route_is_404_and_wrong_method_is_405(api):
    assert api.call("GET", "/nope").status_code == 404
    assert api.call("DELETE", "/proxies").status_code == 405
    assert api.call("PUT", "/proxies/x").status_code == 405


# -- proxies -----------------------------------------------------------------------------
def test_index_with_no_proxies_is_an_empty_object(api):
    response = api.call("GET", "/proxies")
    assert response.status_code == 200
    assert response.json() == {}


def test_create_proxy_answers_201_with_the_bound_address(api):
    body = make_proxy(api)
    # "Logger" is a quirk of Toxiproxy 2.12 (an exported Go field), mirrored for parity.
    assert list(body) == ["name", "listen", "upstream", "enabled", "Logger", "toxics"]
    assert body["name"] == "db"
    assert body["upstream"] == "127.0.0.1:20001"
    assert body["enabled"] is True
    assert body["toxics"] == []
    host, port = body["listen"].rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0
    connect(body["listen"]).close()


def test_create_resolves_localhost_listen_to_127_0_0_1(api):
    response = api.call(
        "POST", "/proxies", json={"name": "l", "listen": "localhost:0", "upstream": "x:1"}
    )
    assert response.status_code == 201
    assert response.json()["listen"].startswith("127.0.0.1:")


@embedded_only
def test_create_without_listen_stays_on_loopback(api):
    response = api.call("POST", "/proxies", json={"name": "quiet", "upstream": "127.0.0.1:20001"})
    assert response.status_code == 201, response.text
    host, port = response.json()["listen"].rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0


def test_index_lists_proxies_by_name_with_toxics(api):
    make_proxy(api, "one")
    make_proxy(api, "two")
    listed = api.call("GET", "/proxies").json()
    assert sorted(listed) == ["one", "two"]
    assert listed["one"]["toxics"] == []


def test_create_without_name_or_upstream_is_400(api):
    response = api.call("POST", "/proxies", json={"listen": "127.0.0.1:0", "upstream": "a:1"})
    assert_error(response, 400, "missing required field: name")
    response = api.call("POST", "/proxies", json={"name": "x", "listen": "127.0.0.1:0"})
    assert_error(response, 400, "missing required field: upstream")


@pytest.mark.parametrize("body", [b"", b"{", b"[1,2]", b"not json", b'{"name": 5}'])
def test_create_with_a_bad_body_is_400_bad_request_body(api, body):
    response = api.call("POST", "/proxies", data=body)
    assert response.status_code == 400
    error = response.json()
    assert error["status"] == 400
    assert error["error"].startswith("bad request body")


def test_create_duplicate_name_is_409(api):
    make_proxy(api)
    response = api.call(
        "POST", "/proxies", json={"name": "db", "listen": "127.0.0.1:0", "upstream": "a:1"}
    )
    assert_error(response, 409, "proxy already exists")


def test_create_on_a_busy_port_is_500_address_in_use(api):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        response = api.call(
            "POST", "/proxies", json={"name": "b", "listen": f"127.0.0.1:{port}", "upstream": "a:1"}
        )
    assert response.status_code == 500
    assert response.json() == {
        "error": f"listen tcp 127.0.0.1:{port}: bind: address already in use",
        "status": 500,
    }
    assert api.call("GET", "/proxies").json() == {}


def test_create_disabled_proxy_refuses_connections(api):
    port = free_port()
    body = make_proxy(api, listen=f"127.0.0.1:{port}", enabled=False)
    assert body["enabled"] is False
    assert body["listen"] == f"127.0.0.1:{port}"
    with pytest.raises(ConnectionRefusedError):
        connect(body["listen"])


def test_show_proxy_and_missing_proxy(api):
    created = make_proxy(api)
    response = api.call("GET", "/proxies/db")
    assert response.status_code == 200
    assert response.json() == created
    assert_error(api.call("GET", "/proxies/nope"), 404, "proxy not found")


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_proxy_disables_and_enables_on_the_same_address(api, method):
    created = make_proxy(api)
    response = api.call(method, "/proxies/db", json={"enabled": False})
    assert response.status_code == 200
    assert response.json()["enabled"] is False
    assert response.json()["listen"] == created["listen"]
    with pytest.raises(ConnectionRefusedError):
        connect(created["listen"])
    response = api.call(method, "/proxies/db", json={"enabled": True})
    assert response.json()["enabled"] is True
    connect(created["listen"]).close()


def test_update_proxy_changes_upstream_and_keeps_the_rest(api):
    created = make_proxy(api)
    response = api.call("PATCH", "/proxies/db", json={"upstream": "127.0.0.1:20002"})
    assert response.status_code == 200
    body = response.json()
    assert body["upstream"] == "127.0.0.1:20002"
    assert body["enabled"] is True
    assert body["name"] == "db"
    assert body["listen"].startswith("127.0.0.1:")
    assert created["name"] == body["name"]


def test_update_missing_proxy_is_404(api):
    assert_error(api.call("PATCH", "/proxies/nope", json={}), 404, "proxy not found")


def test_delete_proxy_is_204_then_404(api):
    created = make_proxy(api)
    response = api.call("DELETE", "/proxies/db")
    assert response.status_code == 204
    assert response.content == b""
    with pytest.raises(ConnectionRefusedError):
        connect(created["listen"])
    assert_error(api.call("DELETE", "/proxies/db"), 404, "proxy not found")


# -- populate ----------------------------------------------------------------------------
def test_populate_creates_proxies_enabled_by_default(api):
    response = api.call(
        "POST",
        "/populate",
        json=[
            {"name": "one", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:7171"},
            {
                "name": "two",
                "listen": "127.0.0.1:0",
                "upstream": "127.0.0.1:7474",
                "enabled": False,
            },
        ],
    )
    assert response.status_code == 201
    proxies = response.json()["proxies"]
    assert [p["name"] for p in proxies] == ["one", "two"]
    assert [p["enabled"] for p in proxies] == [True, False]
    connect(proxies[0]["listen"]).close()


def test_populate_keeps_an_unchanged_proxy_and_its_toxics(api):
    one = make_proxy(api, "one", upstream="127.0.0.1:7171")
    two = make_proxy(api, "two", upstream="127.0.0.1:7474")
    api.call("POST", "/proxies/one/toxics", json={"type": "latency"})
    response = api.call(
        "POST",
        "/populate",
        json=[
            {"name": "one", "listen": one["listen"], "upstream": "127.0.0.1:7171"},
            {"name": "two", "listen": two["listen"], "upstream": "127.0.0.1:7676"},
        ],
    )
    assert response.status_code == 201
    proxies = {p["name"]: p for p in response.json()["proxies"]}
    assert [t["type"] for t in proxies["one"]["toxics"]] == ["latency"]
    assert proxies["one"]["listen"] == one["listen"]
    assert proxies["two"]["upstream"] == "127.0.0.1:7676"
    assert api.call("GET", "/proxies/two").json()["upstream"] == "127.0.0.1:7676"
    assert len(api.call("GET", "/proxies/one/toxics").json()) == 1


def test_populate_with_a_missing_name_creates_nothing(api):
    response = api.call(
        "POST",
        "/populate",
        json=[
            {"name": "one", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:7171"},
            {"name": "", "listen": ""},
        ],
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "missing required field: name at proxy 2"
    assert body["status"] == 400
    assert api.call("GET", "/proxies").json() == {}


def test_populate_stops_at_the_first_failure_and_keeps_earlier_ones(api):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        response = api.call(
            "POST",
            "/populate",
            json=[
                {"name": "one", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:7171"},
                {"name": "two", "listen": f"127.0.0.1:{port}", "upstream": "127.0.0.1:7474"},
                {"name": "three", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:7676"},
            ],
        )
    assert response.status_code == 500
    assert "address already in use" in response.json()["error"]
    assert sorted(api.call("GET", "/proxies").json()) == ["one"]


def test_populate_with_a_non_array_is_400(api):
    response = api.call("POST", "/populate", json={"name": "x"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("bad request body")


# -- reset -------------------------------------------------------------------------------
def test_reset_enables_proxies_and_removes_toxics(api):
    created = make_proxy(api)
    api.call("POST", "/proxies/db/toxics", json={"type": "latency"})
    api.call("POST", "/proxies/db/toxics", json={"type": "timeout", "stream": "upstream"})
    api.call("PATCH", "/proxies/db", json={"enabled": False})
    response = api.call("POST", "/reset")
    assert response.status_code == 204
    body = api.call("GET", "/proxies/db").json()
    assert body["enabled"] is True
    assert body["toxics"] == []
    assert body["listen"] == created["listen"]
    connect(created["listen"]).close()


# -- toxics ------------------------------------------------------------------------------
def test_add_toxic_defaults_to_downstream_full_toxicity_and_type_stream_name(api):
    make_proxy(api)
    response = api.call("POST", "/proxies/db/toxics", json={"type": "latency"})
    assert response.status_code == 200
    assert response.json() == {
        "attributes": {"latency": 0, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }


@pytest.mark.parametrize(
    ("toxic_type", "attributes"),
    [
        ("latency", {"latency": 100, "jitter": 10}),
        ("bandwidth", {"rate": 100}),
        ("slow_close", {"delay": 100}),
        ("timeout", {"timeout": 100}),
        ("reset_peer", {"timeout": 100}),
        ("slicer", {"average_size": 10, "size_variation": 5, "delay": 100}),
        ("limit_data", {"bytes": 100}),
        ("noop", {}),
    ],
)
def test_every_toxic_type_is_created_with_its_attributes(api, toxic_type, attributes):
    make_proxy(api)
    body = {"type": toxic_type, "stream": "upstream", "toxicity": 0.5, "attributes": attributes}
    response = api.call("POST", "/proxies/db/toxics", json=body)
    assert response.status_code == 200, response.text
    toxic = response.json()
    assert toxic["attributes"] == attributes
    assert toxic["name"] == f"{toxic_type}_upstream"
    assert toxic["stream"] == "upstream"
    assert toxic["toxicity"] == 0.5


def test_an_unknown_attribute_is_ignored_as_toxiproxy_does(api):
    # Only scenario files are strict about attribute names; the API accepts what Toxiproxy does.
    make_proxy(api)
    body = {"type": "latency", "attributes": {"latncy": 500, "jitter": 5}}
    response = api.call("POST", "/proxies/db/toxics", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["attributes"] == {"latency": 0, "jitter": 5}


def test_same_type_on_both_streams_gets_two_default_names(api):
    make_proxy(api)
    for stream in ("upstream", "downstream"):
        response = api.call(
            "POST", "/proxies/db/toxics", json={"type": "latency", "stream": stream}
        )
        assert response.status_code == 200
    listed = api.call("GET", "/proxies/db/toxics").json()
    assert [t["name"] for t in listed] == ["latency_upstream", "latency_downstream"]


def test_toxic_index_show_and_proxy_listing_agree(api):
    make_proxy(api)
    added = api.call(
        "POST",
        "/proxies/db/toxics",
        json={"name": "slow", "type": "latency", "attributes": {"latency": 5}},
    ).json()
    assert api.call("GET", "/proxies/db/toxics").json() == [added]
    assert api.call("GET", "/proxies/db/toxics/slow").json() == added
    assert api.call("GET", "/proxies/db").json()["toxics"] == [added]


def test_conflicting_toxic_name_is_409_even_across_streams(api):
    make_proxy(api)
    api.call("POST", "/proxies/db/toxics", json={"name": "foo", "type": "latency"})
    response = api.call(
        "POST", "/proxies/db/toxics", json={"name": "foo", "type": "latency", "stream": "upstream"}
    )
    assert_error(response, 409, "toxic already exists")


def test_invalid_stream_and_type_are_400(api):
    make_proxy(api)
    response = api.call(
        "POST", "/proxies/db/toxics", json={"type": "latency", "stream": "walrustream"}
    )
    assert_error(response, 400, "stream was invalid, can be either upstream or downstream")
    response = api.call("POST", "/proxies/db/toxics", json={"type": "walrus"})
    assert_error(response, 400, "invalid toxic type")
    response = api.call("POST", "/proxies/db/toxics", json={})
    assert_error(response, 400, "invalid toxic type")


def test_toxic_bad_body_and_bad_attribute_type_are_400(api):
    make_proxy(api)
    response = api.call("POST", "/proxies/db/toxics", data=b"{nope")
    assert response.status_code == 400
    assert response.json()["error"].startswith("bad request body")
    response = api.call(
        "POST", "/proxies/db/toxics", json={"type": "latency", "attributes": {"latency": "x"}}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("bad request body")


def test_toxic_routes_on_a_missing_proxy_are_404(api):
    for method, path in [
        ("GET", "/proxies/nope/toxics"),
        ("POST", "/proxies/nope/toxics"),
        ("GET", "/proxies/nope/toxics/t"),
        ("PATCH", "/proxies/nope/toxics/t"),
        ("DELETE", "/proxies/nope/toxics/t"),
    ]:
        assert_error(api.call(method, path, json={"type": "latency"}), 404, "proxy not found")


def test_missing_toxic_is_404(api):
    make_proxy(api)
    for method in ("GET", "PATCH", "POST", "DELETE"):
        response = api.call(method, "/proxies/db/toxics/nope", json={})
        assert_error(response, 404, "toxic not found")


@pytest.mark.parametrize("method", ["PATCH", "POST"])
def test_update_toxic_merges_attributes_and_keeps_toxicity_unless_given(api, method):
    make_proxy(api)
    api.call(
        "POST",
        "/proxies/db/toxics",
        json={"type": "latency", "attributes": {"latency": 100, "jitter": 10}},
    )
    path = "/proxies/db/toxics/latency_downstream"
    response = api.call(method, path, json={"toxicity": 0.5, "attributes": {"latency": 1000}})
    assert response.status_code == 200
    assert response.json()["toxicity"] == 0.5
    assert response.json()["attributes"] == {"latency": 1000, "jitter": 10}
    response = api.call(method, path, json={"attributes": {"latency": 500}})
    assert response.json()["toxicity"] == 0.5
    assert response.json()["attributes"] == {"latency": 500, "jitter": 10}
    assert api.call("GET", path).json()["attributes"] == {"latency": 500, "jitter": 10}


def test_remove_toxic_is_204_then_404(api):
    make_proxy(api)
    api.call("POST", "/proxies/db/toxics", json={"type": "latency"})
    response = api.call("DELETE", "/proxies/db/toxics/latency_downstream")
    assert response.status_code == 204
    assert api.call("GET", "/proxies/db/toxics").json() == []
    assert_error(
        api.call("DELETE", "/proxies/db/toxics/latency_downstream"), 404, "toxic not found"
    )
