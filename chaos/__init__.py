"""Fault injection for stormproof: embedded Toxiproxy, toxiproxy client, scenarios, runner."""

from importlib import import_module
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient, ToxiproxyError

try:
    __version__ = _dist_version("stormproof")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0.0.0"

# Re-exported lazily: importing them loads aiohttp and requests, and `stormproof --help`
# (which imports this package) should stay fast.
_LAZY = {
    "EmbeddedToxiproxy": "stormproof.chaos.toxiproxy",
    "ToxiproxyClient": "stormproof.chaos.toxiproxy",
    "ToxiproxyError": "stormproof.chaos.toxiproxy",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chaos' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = ["EmbeddedToxiproxy", "ToxiproxyClient", "ToxiproxyError", "__version__"]
