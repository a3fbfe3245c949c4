"""A stand-in Pact Broker on 127.0.0.1: answers the HAL the pact CLI and verifier need, records all.

It is not a broker: it stores nothing but what it was sent, serves the pacts it was given at
construction for verification, and answers ``can-i-deploy`` with a configured verdict.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

HAL = "application/hal+json"


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class StandInBroker:
    """Serve in a background thread; use as a context manager."""

    pacts: list[dict[str, Any]] = field(default_factory=list)
    deployable: bool = True
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        broker = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                parts = urlsplit(self.path)
                record = Recorded(
                    self.command,
                    unquote(parts.path),
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with broker._lock:
                    broker.requests.append(record)
                status, payload = broker.answer(record)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", HAL)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StandInBroker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def received(self, method: str, path_start: str) -> list[Recorded]:
        """The recorded requests with this method whose path starts with ``path_start``."""
        with self._lock:
            return [
                r for r in self.requests if r.method == method and r.path.startswith(path_start)
            ]

    # ------------------------------------------------------------------ answers

    def _link(self, path: str, **extra: Any) -> dict[str, Any]:
        return {"href": self.url + path, **extra}

    def _pact_path(self, pact: dict[str, Any]) -> str:
        consumer = quote(pact["consumer"]["name"])
        provider = quote(pact["provider"]["name"])
        return f"/pacts/provider/{provider}/consumer/{consumer}/pact-version/standin"

    def answer(self, record: Recorded) -> tuple[int, Any]:
        path = record.path
        if path == "/" and record.method == "GET":
            return 200, self._index()
        if path == "/contracts/publish" and record.method == "POST":
            return 200, self._published(record.body)
        if path == "/matrix":
            return 200, self._matrix()
        if path.startswith("/pacts/provider/") and path.endswith("/for-verification"):
            # GET describes the resource; the POST of the selectors answers the pacts.
            return 200, self._for_verification(path, record.method == "POST")
        if path.endswith("/verification-results") and record.method == "POST":
            return 201, {**(record.body or {}), "_links": {"self": self._link(path + "/1")}}
        if path.startswith("/pacticipants/"):
            return 200, self._pacticipant(path)
        for pact in self.pacts:
            if path == self._pact_path(pact):
                return 200, self._pact_document(pact)
        return 404, {"error": f"the stand-in broker does not know {record.method} {path}"}

    def _index(self) -> dict[str, Any]:
        return {
            "_links": {
                "self": self._link("/"),
                "pb:publish-contracts": self._link("/contracts/publish"),
                "pb:provider-pacts-for-verification": self._link(
                    "/pacts/provider/{provider}/for-verification", templated=True
                ),
                "pb:latest-provider-pacts": self._link(
                    "/pacts/provider/{provider}/latest", templated=True
                ),
                "pb:matrix": self._link("/matrix"),
            }
        }

    def _published(self, body: Any) -> dict[str, Any]:
        name = body.get("pacticipantName", "") if isinstance(body, dict) else ""
        number = body.get("pacticipantVersionNumber", "") if isinstance(body, dict) else ""
        pacticipant = self._link(f"/pacticipants/{quote(name)}", name=name, title="Pacticipant")
        version = self._link(
            f"/pacticipants/{quote(name)}/versions/{quote(number)}", name=number, title="Version"
        )
        return {
            "notices": [{"type": "success", "text": "published to the stand-in broker"}],
            "logs": [
                {
                    "level": "info",
                    "message": "published to the stand-in broker",
                    "deprecationWarning": "",
                }
            ],
            "_embedded": {
                "pacticipant": {"name": name, "_links": {"self": pacticipant}},
                "version": {"number": number, "_links": {"self": version}},
            },
            "_links": {
                "pb:pacticipant": pacticipant,
                "pb:pacticipant-version": version,
                "pb:pacticipant-version-tags": [],
                "pb:contracts": [],
            },
        }

    def _matrix(self) -> dict[str, Any]:
        reason = "all verified" if self.deployable else "a verification failed"
        return {
            "summary": {
                "deployable": self.deployable,
                "reason": reason,
                "success": 1 if self.deployable else 0,
                "failed": 0 if self.deployable else 1,
                "unknown": 0,
            },
            "notices": [{"type": "info", "text": reason}],
            "matrix": [],
        }

    def _for_verification(self, path: str, with_pacts: bool) -> dict[str, Any]:
        if not with_pacts:
            return {"_links": {"self": self._link(path)}}
        pacts = [
            {
                "shortDescription": "latest from main",
                "verificationProperties": {"pending": False, "notices": []},
                "_links": {"self": self._link(self._pact_path(p), name=p["consumer"]["name"])},
            }
            for p in self.pacts
        ]
        return {"_embedded": {"pacts": pacts}, "_links": {"self": self._link(path)}}

    def _pacticipant(self, path: str) -> dict[str, Any]:
        # Enough for the verifier to record the provider version's branch before publishing.
        base = "/" + "/".join(path.strip("/").split("/")[:2])
        return {
            "name": unquote(base.rsplit("/", 1)[-1]),
            "_links": {
                "self": self._link(path),
                "pb:branch-version": self._link(
                    base + "/branches/{branch}/versions/{version}", templated=True
                ),
                "pb:version-tag": self._link(
                    base + "/versions/{version}/tags/{tag}", templated=True
                ),
                "pb:version": self._link(base + "/versions/{version}", templated=True),
            },
        }

    def _pact_document(self, pact: dict[str, Any]) -> dict[str, Any]:
        path = self._pact_path(pact)
        return {
            **pact,
            "_links": {
                "self": self._link(path),
                "pb:publish-verification-results": self._link(path + "/verification-results"),
                "pb:provider": self._link(f"/pacticipants/{quote(pact['provider']['name'])}"),
            },
        }


def published_contracts(record: Recorded) -> list[dict[str, Any]]:
    """The pacts inside a recorded ``POST /contracts/publish``, decoded."""
    return [
        json.loads(base64.b64decode(item["content"])) for item in record.body.get("contracts", [])
    ]


def load_pacts(folder: Path) -> list[dict[str, Any]]:
    """The pact documents of a folder."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]
