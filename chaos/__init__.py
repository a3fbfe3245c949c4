"""Fault injection for stormproof: embedded Toxiproxy, toxiproxy client, scenarios, runner."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import TYPE_CHECKING

from stormproof.chaos._lazy import lazy_exports as _lazy_exports

if TYPE_CHECKING:
    from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient, ToxiproxyError

try:
    __version__ = _dist_version("stormproof")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0.0.0"

# Re-exported lazily: importing them loads aiohttp and requests, and `stormproof --help`
# (which imports this package) should stay fast.
__getattr__, __dir__ = _lazy_exports(
    __name__,
    {
        "EmbeddedToxiproxy": "toxiproxy",
        "ToxiproxyClient": "toxiproxy",
        "ToxiproxyError": "toxiproxy",
    },
)


__all__ = ["EmbeddedToxiproxy", "ToxiproxyClient", "ToxiproxyError", "__version__"]
