"""Immutable values exchanged with a Toxiproxy API: proxies, toxics and toxic specs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Attributes = Mapping[str, Any]
"""Toxic attributes by name: integers for every Toxiproxy 2.x type; the embedded server's ``http``
extension also takes strings and a header map (see docs/http-toxics.md)."""

UPSTREAM = "upstream"
DOWNSTREAM = "downstream"


def _hashable(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, Mapping) else value


class FrozenAttributes(Mapping[str, Any]):
    """A read-only, hashable mapping of toxic attributes."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset((k, _hashable(v)) for k, v in self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[type[FrozenAttributes], tuple[dict[str, Any]]]:
        return (FrozenAttributes, (self._data,))


def _frozen(attributes: Mapping[str, Any] | None) -> Attributes:
    if isinstance(attributes, FrozenAttributes):
        return attributes
    return FrozenAttributes(attributes)


@dataclass(frozen=True)
class Toxic:
    """A toxic as the server reports it.

    Attributes:
        name: Unique name within its proxy (default ``<type>_<stream>``).
        type: Toxic type, e.g. ``latency`` or ``timeout``.
        stream: ``upstream`` (client to server) or ``downstream`` (server to client).
        toxicity: Probability in [0, 1] that a connection gets this toxic.
        attributes: Type-specific settings, e.g. ``{"latency": 100, "jitter": 10}``.
    """

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Attributes = field(default_factory=FrozenAttributes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", _frozen(self.attributes))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Toxic:
        """Build a toxic from the server's JSON object."""
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            stream=str(data["stream"]),
            toxicity=float(data["toxicity"]),
            attributes={str(k): v for k, v in (data.get("attributes") or {}).items()},
        )


@dataclass(frozen=True)
class ToxicStats:
    """A toxic's fault witness: counters proving it fired (stormproof's embedded server only).

    Counters start at 0 when the toxic is created, survive updates and vanish with the toxic.
    A real Toxiproxy has no such route.

    Attributes:
        name: The toxic's name.
        type: Toxic type, e.g. ``latency``.
        stream: ``upstream`` or ``downstream``, as the toxic was created.
        connections: Links of that stream on which the toxicity roll picked the toxic.
        acted: Times the toxic changed the stream: chunks delayed (latency), throttled
            (bandwidth), split (slicer) or passed (noop); closes delayed (slow_close);
            connections held or dropped (timeout), reset (reset_peer) or cut (limit_data).
        bytes: Bytes it delayed, throttled, held or dropped (0 where that means nothing).
        requests: ``http`` toxics: requests read (0 for other types).
        matched: ``http`` toxics: requests whose method and path matched.
        not_http: ``http`` toxics: connections passed through untouched, not being HTTP/1.1.
    """

    name: str
    type: str
    stream: str
    connections: int
    acted: int
    bytes: int
    requests: int = 0
    matched: int = 0
    not_http: int = 0

    @property
    def fired(self) -> bool:
        """Whether the toxic changed the stream at least once."""
        return self.acted > 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ToxicStats:
        """Build the stats from the server's JSON object."""
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            stream=str(data["stream"]),
            connections=int(data["connections"]),
            acted=int(data["acted"]),
            bytes=int(data["bytes"]),
            requests=int(data.get("requests", 0)),
            matched=int(data.get("matched", 0)),
            not_http=int(data.get("not_http", 0)),
        )


@dataclass(frozen=True)
class Proxy:
    """A proxy as the server reports it.

    Attributes:
        name: Unique proxy name.
        listen: Address the proxy listens on, resolved by the server (``127.0.0.1:34567``).
        upstream: Address connections are forwarded to.
        enabled: False when the proxy is down (connections refused).
        toxics: Its toxics, upstream ones first, each stream in chain order.
    """

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[Toxic, ...] = ()

    @property
    def host(self) -> str:
        """Host part of `listen` (without IPv6 brackets)."""
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        """Port part of `listen`."""
        return int(self.listen.rsplit(":", 1)[1])

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proxy:
        """Build a proxy from the server's JSON object."""
        return cls(
            name=str(data["name"]),
            listen=str(data["listen"]),
            upstream=str(data["upstream"]),
            enabled=bool(data["enabled"]),
            toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()),
        )


@dataclass(frozen=True)
class ToxicSpec:
    """A toxic to add: what `ToxiproxyClient.add_toxic` sends.

    Attributes:
        type: Toxic type, e.g. ``latency``.
        stream: ``upstream`` or ``downstream``.
        toxicity: Probability in [0, 1] that a connection gets it.
        attributes: Type-specific settings.
        name: Name; the server defaults it to ``<type>_<stream>``.
    """

    type: str
    stream: str = DOWNSTREAM
    toxicity: float = 1.0
    attributes: Attributes = field(default_factory=FrozenAttributes)
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", _frozen(self.attributes))

    @property
    def resolved_name(self) -> str:
        """The name the server will give this toxic."""
        return self.name or f"{self.type}_{self.stream}"

    def to_json(self) -> dict[str, Any]:
        """The request body for ``POST /proxies/{proxy}/toxics``."""
        body: dict[str, Any] = {
            "type": self.type,
            "stream": self.stream,
            "toxicity": self.toxicity,
            "attributes": dict(self.attributes),
        }
        if self.name is not None:
            body["name"] = self.name
        return body


@dataclass(frozen=True)
class ProxySpec:
    """A proxy to create or populate.

    Attributes:
        name: Unique proxy name.
        listen: Address to listen on; port 0 picks a free port.
        upstream: ``host:port`` to forward connections to.
        enabled: Whether it accepts connections right away.
    """

    name: str
    listen: str
    upstream: str
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        """The JSON object for ``POST /proxies`` and ``POST /populate``."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
        }
