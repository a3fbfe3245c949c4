"""Whatever JSON the toxic and proxy routes get, the server answers 2xx/4xx and keeps serving."""

from __future__ import annotations

import json

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stormproof.chaos.toxiproxy._jsonio import same_field
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only

TYPES = [
    "latency",
    "bandwidth",
    "slow_close",
    "timeout",
    "reset_peer",
    "slicer",
    "limit_data",
    "noop",
    "walrus",
    "",
]
ATTRS = [
    "latency",
    "jitter",
    "rate",
    "delay",
    "timeout",
    "average_size",
    "size_variation",
    "bytes",
    "Latency",
    "other",
]

# Lone surrogates (json.dumps escapes them; Go decodes them to U+FFFD) and integers far beyond
# float32, float64 and int64.
chars = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False),
    st.text(chars, max_size=8),
)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
attributes = st.one_of(anything, st.dictionaries(st.sampled_from(ATTRS), scalars, max_size=4))
toxic_bodies = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(TYPES), scalars),
        "stream": st.one_of(st.sampled_from(["upstream", "downstream", "UPSTREAM", "x"]), scalars),
        "toxicity": st.one_of(st.floats(min_value=-1, max_value=2), scalars),
        "name": st.one_of(st.sampled_from(["a", "b"]), st.text(chars, max_size=4), scalars),
        "attributes": attributes,
    },
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(toxic_bodies, anything))
def test_toxic_routes_never_fail_on_input(client, toxiproxy_url, body):
    if "db" not in client.proxies():
        client.create_proxy("db", "127.0.0.1:0", "127.0.0.1:20001")
    base = toxiproxy_url + "/proxies/db"
    data = json.dumps(body)
    for method, url in (
        ("POST", base + "/toxics"),
        ("PATCH", base + "/toxics/a"),
        ("PATCH", base + "/toxics/b"),
    ):
        response = requests.request(method, url, data=data, timeout=5)
        assert response.status_code in (200, 400, 404, 409), response.text
        if response.status_code >= 400:
            assert response.json()["status"] == response.status_code


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=anything)
def test_proxy_update_never_fails_on_input(client, toxiproxy_url, body):
    if isinstance(body, dict):  # a random listen address could bind beyond 127.0.0.1
        body = {key: value for key, value in body.items() if not same_field(key, "listen")}
    if "db" not in client.proxies():
        client.create_proxy("db", "127.0.0.1:0", "127.0.0.1:20001")
    response = requests.patch(toxiproxy_url + "/proxies/db", data=json.dumps(body), timeout=5)
    assert response.status_code in (200, 400), response.text
    assert requests.get(toxiproxy_url + "/version", timeout=5).status_code == 200
