"""Toxic types: one module per type, registered by name, plus attribute parsing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stormproof.chaos.toxiproxy._api_error import BAD_REQUEST_BODY, ApiError
from stormproof.chaos.toxiproxy._jsonio import as_int, json_kind, same_field
from stormproof.chaos.toxiproxy._toxics import (
    bandwidth,
    http,
    latency,
    limit_data,
    noop,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from stormproof.chaos.toxiproxy._toxics._base import (
    CLOSE,
    EOF,
    RESET,
    Chunk,
    LinkContext,
    Stage,
    Target,
    ToxicKind,
)
from stormproof.chaos.toxiproxy._toxics._witness import Witness

KINDS: dict[str, ToxicKind] = {
    module.KIND.type_name: module.KIND
    for module in (
        latency,
        bandwidth,
        slow_close,
        timeout,
        reset_peer,
        slicer,
        limit_data,
        noop,
        http,
    )
}

__all__ = [
    "CLOSE",
    "EOF",
    "KINDS",
    "RESET",
    "Chunk",
    "LinkContext",
    "Stage",
    "Target",
    "ToxicKind",
    "Witness",
    "parse_attributes",
]


def parse_attributes(
    kind: ToxicKind, raw: object, base: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Merge JSON attributes over `base` (or the defaults) and check every value.

    Unknown attribute names are ignored, as Toxiproxy ignores them.

    Raises:
        ApiError: 400 when a value is not an integer or is out of the accepted range (or, for
            an extension with its own attributes, does not fit them).
    """
    if kind.parse is not None:
        return kind.parse(raw, base)
    attrs = dict(base) if base is not None else kind.defaults()
    # Toxiproxy decodes a new toxic's attributes into a noop first, so it names NoopToxic.
    go_struct = kind.go_struct if base is not None else "NoopToxic"
    if raw is not None:
        if not isinstance(raw, dict):
            raise BAD_REQUEST_BODY.joined(
                f"json: cannot unmarshal {json_kind(raw)} into Go struct field "
                f"ToxicWrapper.attributes of type toxics.{go_struct}"
            )
        values: dict[str, Any] = raw
        for spec in kind.attrs:
            for key, value in values.items():
                if value is not None and same_field(key, spec.name):
                    where = f"{kind.go_struct}.attributes.{spec.name}"
                    attrs[spec.name] = as_int(value, where, spec.go_type)
    for spec in kind.attrs:
        value = attrs[spec.name]
        if not spec.minimum <= value <= spec.maximum:
            bound = (
                f"at least {spec.minimum}" if value < spec.minimum else f"at most {spec.maximum}"
            )
            unit = f" ({spec.why})" if spec.why else ""
            raise ApiError(
                f"invalid {kind.type_name} toxic: attribute {spec.name} must be {bound}{unit}, "
                f"got {value}",
                400,
            )
    if kind.check is not None:
        problem = kind.check(attrs)
        if problem:
            raise ApiError(f"invalid {kind.type_name} toxic: {problem}", 400)
    return attrs
