"""docs/http-toxics.md: every curl command runs against an embedded server and does what it says."""

from __future__ import annotations

import http.client
import json
import re
import shlex
import subprocess
from pathlib import Path

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient
from tests.toxiproxy._http_upstream import http_upstream
from tests.toxiproxy.conftest import embedded_only

DOC = Path(__file__).resolve().parents[2] / "docs" / "http-toxics.md"
# curl is installed by .ci/run, like redis-server: a missing curl fails here, it does not skip.
pytestmark = [embedded_only]


def _commands() -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]


def _curl(command: str, api: str, upstream: str) -> tuple[int, object]:
    command = command.replace("127.0.0.1:8474", api).replace("127.0.0.1:8080", upstream)
    args = [*shlex.split(command), "-w", "\n%{http_code}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
    body, _, code = done.stdout.rpartition("\n")
    return int(code), json.loads(body) if body else None


def _status(listen: str, method: str, path: str) -> int | str:
    host, port = listen.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, body=b"{}" if method == "POST" else None)
        response = conn.getresponse()
        response.read()
        return response.status
    except (http.client.HTTPException, OSError) as exc:
        return type(exc).__name__
    finally:
        conn.close()


def test_the_doc_has_a_curl_example_for_every_mode():
    commands = " ".join(_commands())
    for mode in ("status", "slow", "drip", "malformed", "truncated", "lost"):
        assert mode == "status" or f'"mode": "{mode}"' in commands, mode
    assert len(_commands()) == 12


def test_every_curl_command_in_the_doc_works():
    commands = _commands()
    with (
        http_upstream() as upstream,
        EmbeddedToxiproxy(seed=3) as server,
        ToxiproxyClient(server.url) as client,
    ):
        api = server.url.removeprefix("http://")
        code, proxy = _curl(commands[0], api, upstream.addr)
        assert code == 201
        assert isinstance(proxy, dict)
        listen = str(proxy["listen"])
        checks = {
            "unavailable": lambda: (
                [_status(listen, "GET", "/orders/1") for _ in range(3)] == [503, 503, 200]
            ),
            "ambiguous": lambda: _status(listen, "POST", "/orders") == 503,
            "limited": lambda: {_status(listen, "GET", "/") for _ in range(20)} == {200, 429},
            "slow": lambda: _status(listen, "GET", "/") == 200,
            "drip": lambda: _status(listen, "GET", "/") == 200,
            "garbled": lambda: _status(listen, "GET", "/") == 200,
            "cut": lambda: _status(listen, "GET", "/") == "IncompleteRead",
            "lost": lambda: _status(listen, "POST", "/orders") == "RemoteDisconnected",
        }
        for command in commands[1:9]:
            code, toxic = _curl(command, api, upstream.addr)
            assert code == 200, toxic
            assert isinstance(toxic, dict)
            name = str(toxic["name"])
            assert checks[name](), name
            assert client.toxic_stats("web", name).acted >= 1
            if name != "lost":
                client.remove_toxic("web", name)
        stats, update, delete = commands[9:]
        code, counters = _curl(stats, api, upstream.addr)
        assert code == 200
        assert isinstance(counters, dict)
        assert (counters["acted"], counters["matched"]) == (1, 1)
        code, updated = _curl(update, api, upstream.addr)
        assert code == 200
        assert isinstance(updated, dict)
        assert updated["attributes"]["count"] == 2
        assert _curl(delete, api, upstream.addr)[0] == 204
        assert client.toxics("web") == []
