"""Toxiproxy for stormproof: an embedded Toxiproxy 2.12-compatible server and a typed client.

``EmbeddedToxiproxy`` runs the server in a background thread; ``stormproof proxy`` runs it as
a drop-in for ``toxiproxy-server``. ``ToxiproxyClient`` talks to it or to a real Toxiproxy.
"""

import logging as _logging
from collections.abc import Mapping as _Mapping
from types import MappingProxyType as _MappingProxyType
from typing import TYPE_CHECKING as _TYPE_CHECKING

from stormproof.chaos._lazy import lazy_exports as _lazy_exports
from stormproof.chaos.toxiproxy._client import ToxiproxyClient
from stormproof.chaos.toxiproxy._errors import (
    ToxiproxyBadRequestError,
    ToxiproxyConflictError,
    ToxiproxyConnectionError,
    ToxiproxyError,
    ToxiproxyNotFoundError,
    ToxiproxyServerError,
)
from stormproof.chaos.toxiproxy._models import Proxy, ProxySpec, Toxic, ToxicSpec, ToxicStats
from stormproof.chaos.toxiproxy._toxics import KINDS as _KINDS
from stormproof.chaos.toxiproxy._toxics._base import AttrSpec, ToxicKind

if _TYPE_CHECKING:
    from stormproof.chaos.toxiproxy._server import (
        ConfigError,
        EmbeddedToxiproxy,
        ServerStats,
        ToxiproxyServer,
    )

# The server (aiohttp) loads on first use: a client of the proxy, such as a test process whose
# proxy runs in a child process, only needs the models and the client.
__getattr__, __dir__ = _lazy_exports(
    __name__,
    dict.fromkeys(
        ("ConfigError", "EmbeddedToxiproxy", "ServerStats", "ToxiproxyServer"), "_server"
    ),
)

TOXIC_KINDS: _Mapping[str, ToxicKind] = _MappingProxyType(_KINDS)
"""Every toxic type the embedded server knows, by type name (read-only).

The source of truth for toxic attributes: ``TOXIC_KINDS["latency"].attrs`` lists each
attribute as an `AttrSpec` (``name``, ``go_type``, ``minimum``, ``maximum``), and
``TOXIC_KINDS["latency"].defaults()`` gives the attributes of a toxic created without any.
The server answers 400 to a value outside ``[minimum, maximum]``.
"""

# A library logs, the application decides where logs go (no "last resort" stderr output).
_logging.getLogger("stormproof.toxiproxy").addHandler(_logging.NullHandler())

__all__ = [
    "TOXIC_KINDS",
    "AttrSpec",
    "ConfigError",
    "EmbeddedToxiproxy",
    "Proxy",
    "ProxySpec",
    "ServerStats",
    "Toxic",
    "ToxicKind",
    "ToxicSpec",
    "ToxicStats",
    "ToxiproxyBadRequestError",
    "ToxiproxyClient",
    "ToxiproxyConflictError",
    "ToxiproxyConnectionError",
    "ToxiproxyError",
    "ToxiproxyNotFoundError",
    "ToxiproxyServer",
    "ToxiproxyServerError",
]
