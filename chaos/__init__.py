"""Fault injection for stormproof: embedded Toxiproxy, toxiproxy client, scenarios, runner."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version

try:
    __version__ = _dist_version("stormproof")
except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
