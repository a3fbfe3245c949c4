"""Fixtures: the server under test (embedded, or TOXIPROXY_URL), a clean client, upstreams.

Every test creates its proxies on ``127.0.0.1:0`` and reads back the bound address, so the
suite runs unchanged against a real Toxiproxy: ``TOXIPROXY_URL=http://127.0.0.1:8474 pytest
tests/toxiproxy``. Tests of stormproof's deliberate differences are marked ``embedded_only``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest

from stormproof.chaos.toxiproxy import EmbeddedToxiproxy, ToxiproxyClient, ToxiproxyNotFoundError
from tests.toxiproxy._net import TcpServer, echo

EXTERNAL_URL = os.environ.get("TOXIPROXY_URL")
SEED = 20261129

embedded_only = pytest.mark.skipif(
    EXTERNAL_URL is not None, reason="checks a stormproof improvement over Toxiproxy 2.12"
)


@pytest.fixture(scope="session")
def toxiproxy_url() -> Iterator[str]:
    if EXTERNAL_URL:
        yield EXTERNAL_URL.rstrip("/")
        return
    with EmbeddedToxiproxy(seed=SEED) as server:
        yield server.url


def _clean(client: ToxiproxyClient) -> None:
    for name in client.proxies():
        with contextlib.suppress(ToxiproxyNotFoundError):
            client.delete_proxy(name)


@pytest.fixture
def client(toxiproxy_url: str) -> Iterator[ToxiproxyClient]:
    with ToxiproxyClient(toxiproxy_url) as api:
        _clean(api)
        yield api
        _clean(api)


@pytest.fixture
def echo_server() -> Iterator[TcpServer]:
    server = TcpServer(echo)
    yield server
    server.close()
