"""Serve a provider app in a process of its own: `python -m stormproof.chaos.services._serve`.

    python -m stormproof.chaos.services._serve package.module:factory [--options JSON]

Binds 127.0.0.1 on a free port (or `--host`/`--port`), prints `{"url": ...}` on one line of
standard output once it listens, and serves with uvicorn until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys

import uvicorn

from stormproof.chaos.services._declaration import DeclarationError, resolve


def main(argv: list[str] | None = None) -> int:
    """Serve the app; 2 when the factory cannot be resolved or the address cannot be bound."""
    parser = argparse.ArgumentParser(prog="python -m stormproof.chaos.services._serve")
    parser.add_argument("app", help="package.module:factory returning an ASGI app")
    parser.add_argument("--options", default="{}", help="keyword arguments of the factory (JSON)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        factory = resolve(args.app, what="app")
        app = factory(**json.loads(args.options))
    except (DeclarationError, TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
        sock.listen(128)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    # Connections wait in the listen backlog until uvicorn accepts them: ready as soon as bound.
    print(json.dumps({"url": f"http://{host}:{sock.getsockname()[1]}"}), flush=True)
    config = uvicorn.Config(
        app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
