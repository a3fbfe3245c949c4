"""`TOXIC_KINDS` is the registry the server itself enforces, published read-only."""

from __future__ import annotations

import pytest

from stormproof.chaos.toxiproxy import TOXIC_KINDS, AttrSpec, ToxiproxyBadRequestError
from tests.toxiproxy.conftest import embedded_only

pytestmark = embedded_only

TYPES = ["latency", "bandwidth", "slow_close", "timeout", "reset_peer", "slicer", "limit_data"]


def test_every_toxic_type_is_listed_with_its_attribute_specs():
    assert sorted(TOXIC_KINDS) == sorted([*TYPES, "noop", "http"])
    # The http extension declares its own (string and integer) attributes through `parse`.
    assert TOXIC_KINDS["http"].attrs == ()
    assert TOXIC_KINDS["http"].parse is not None
    assert set(TOXIC_KINDS["http"].defaults()) >= {"mode", "method", "path", "status", "count"}
    for kind in TOXIC_KINDS.values():
        if kind.parse is not None:
            continue
        assert set(kind.defaults()) == {spec.name for spec in kind.attrs}
        for spec in kind.attrs:
            assert isinstance(spec, AttrSpec)
            assert spec.go_type in {"int", "int64"}
            assert spec.minimum <= spec.maximum
    with pytest.raises(TypeError):
        TOXIC_KINDS["latency"] = TOXIC_KINDS["noop"]  # type: ignore[index]


@pytest.mark.parametrize("type_name", TYPES)
def test_the_server_accepts_the_published_range_and_refuses_past_it(client, type_name):
    client.create_proxy("k", "127.0.0.1:0", "127.0.0.1:9")
    kind = TOXIC_KINDS[type_name]
    for spec in kind.attrs:
        # Other attributes at their minimum, except where a cross check needs room.
        base = {other.name: other.minimum for other in kind.attrs}
        for value in (spec.minimum, spec.maximum):
            attributes = {**base, spec.name: value}
            if type_name == "slicer":
                attributes["average_size"] = max(attributes["average_size"], value)
            toxic = client.add_toxic("k", type_name, name="t", attributes=attributes)
            assert toxic.attributes[spec.name] == value
            client.remove_toxic("k", "t")
        for value in (spec.minimum - 1, spec.maximum + 1):
            with pytest.raises(ToxiproxyBadRequestError):
                client.add_toxic("k", type_name, name="t", attributes={**base, spec.name: value})
