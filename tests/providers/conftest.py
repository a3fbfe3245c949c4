"""Providers served on 127.0.0.1 once per module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from stormproof.providers._server import ProviderServer, serve


class Api:
    """A tiny requests wrapper bound to one provider's base URL."""

    def __init__(self, server: ProviderServer) -> None:
        self.server = server
        self.url = server.url
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.url + path, **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def fault(self, **rule: object) -> dict[str, object]:
        response = self.post("/_test/faults", json=rule)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def logged(self) -> list[dict[str, object]]:
        return self.get("/_test/requests").json()["requests"]  # type: ignore[no-any-return]


def _served(service: str) -> Iterator[ProviderServer]:
    with serve(service, test_mode=True) as server:  # type: ignore[arg-type]
        yield server


@pytest.fixture(scope="module")
def users_server() -> Iterator[ProviderServer]:
    yield from _served("users")


@pytest.fixture(scope="module")
def notifications_server() -> Iterator[ProviderServer]:
    yield from _served("notifications")


@pytest.fixture(scope="module")
def payments_server() -> Iterator[ProviderServer]:
    yield from _served("payments")


def _api(server: ProviderServer) -> Iterator[Api]:
    api = Api(server)
    assert api.post("/_test/reset").status_code == 204
    yield api
    api.session.close()


@pytest.fixture
def users(users_server: ProviderServer) -> Iterator[Api]:
    yield from _api(users_server)


@pytest.fixture
def notifications(notifications_server: ProviderServer) -> Iterator[Api]:
    yield from _api(notifications_server)


@pytest.fixture
def payments(payments_server: ProviderServer) -> Iterator[Api]:
    yield from _api(payments_server)
