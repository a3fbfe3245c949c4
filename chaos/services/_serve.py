"""Serve provider apps in a process of their own: `python -m stormproof.chaos.services._serve`.

    python -m stormproof.chaos.services._serve '{"orders": {"app": "package.module:factory"}}'

The argument maps each service to its app factory and the factory's keyword arguments
(`"options"`). Every app gets a free port of 127.0.0.1 (or `--host`) and a uvicorn thread of its
own: a run starts one such process for all its app providers, not one per app. Prints
`{"urls": {service: url, ...}}` on one line once all accept requests, and serves until SIGTERM or
Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from stormproof.chaos.services._declaration import DeclarationError, resolve

if TYPE_CHECKING:
    from stormproof.providers._server import ProviderServer


def _servers(apps: Any, host: str) -> dict[str, ProviderServer]:
    from stormproof.providers._server import ProviderServer  # noqa: PLC0415

    if not isinstance(apps, dict) or not apps:
        raise ValueError('expected a JSON object: {"service": {"app": "package.module:factory"}}')
    servers: dict[str, ProviderServer] = {}
    for name, spec in apps.items():
        factory = resolve(spec["app"], what=f"service {name}: app")
        servers[name] = ProviderServer(name, factory(**spec.get("options", {})), host=host)
    return servers


def main(argv: list[str] | None = None) -> int:
    """Serve the apps; 2 when a factory cannot be resolved or an address cannot be bound."""
    from stormproof.providers._server import ProviderGroup, ProviderStartError  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m stormproof.chaos.services._serve")
    parser.add_argument("apps", help="JSON: service -> app factory and its options")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    group = ProviderGroup({})
    try:
        group = ProviderGroup(_servers(json.loads(args.apps), args.host))
        for server in group:
            server.start()
    except (DeclarationError, ProviderStartError, KeyError, TypeError, ValueError) as exc:
        group.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"urls": group.urls}), flush=True)
    stopping.wait()
    group.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
