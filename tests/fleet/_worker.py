"""One process of a fleet: calls ``get_user`` in phases, told when to go on stdin.

Its policy comes from the environment (``STORMPROOF_*``), as a deployed client's would. It prints
one JSON line per phase: the outcome of each call and the longest call in seconds.

    python _worker.py URL CALLS_PER_PHASE PHASES
"""

from __future__ import annotations

import json
import logging
import sys
import time

from stormproof.clients import ServiceError, UserServiceClient


def main() -> None:
    url, calls, phases = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(message)s")
    with UserServiceClient(url) as client:
        for _ in range(phases):
            print("ready", flush=True)
            if sys.stdin.readline().strip() != "go":
                return
            outcomes: list[str] = []
            longest = 0.0
            for _ in range(calls):
                started = time.monotonic()
                try:
                    client.get_user("u1")
                    outcomes.append("ok")
                except ServiceError as error:
                    outcomes.append(type(error).__name__)
                longest = max(longest, time.monotonic() - started)
            print(json.dumps({"outcomes": outcomes, "longest_s": longest}), flush=True)


if __name__ == "__main__":
    main()
