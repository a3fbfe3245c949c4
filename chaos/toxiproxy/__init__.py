"""Toxiproxy for stormproof: an embedded Toxiproxy 2.12-compatible server and a typed client.

``EmbeddedToxiproxy`` runs the server in a background thread; ``stormproof proxy`` runs it as
a drop-in for ``toxiproxy-server``. ``ToxiproxyClient`` talks to it or to a real Toxiproxy.
"""

import logging as _logging

from stormproof.chaos.toxiproxy._client import ToxiproxyClient
from stormproof.chaos.toxiproxy._errors import (
    ToxiproxyBadRequestError,
    ToxiproxyConflictError,
    ToxiproxyConnectionError,
    ToxiproxyError,
    ToxiproxyNotFoundError,
    ToxiproxyServerError,
)
from stormproof.chaos.toxiproxy._models import Proxy, ProxySpec, Toxic, ToxicSpec
from stormproof.chaos.toxiproxy._server import (
    ConfigError,
    EmbeddedToxiproxy,
    ServerStats,
    ToxiproxyServer,
)

# A library logs, the application decides where logs go (no "last resort" stderr output).
_logging.getLogger("stormproof.toxiproxy").addHandler(_logging.NullHandler())

__all__ = [
    "ConfigError",
    "EmbeddedToxiproxy",
    "Proxy",
    "ProxySpec",
    "ServerStats",
    "Toxic",
    "ToxicSpec",
    "ToxiproxyBadRequestError",
    "ToxiproxyClient",
    "ToxiproxyConflictError",
    "ToxiproxyConnectionError",
    "ToxiproxyError",
    "ToxiproxyNotFoundError",
    "ToxiproxyServer",
    "ToxiproxyServerError",
]
