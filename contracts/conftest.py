"""Fixtures of the contract tests: one Pact per test, a no-retry client on its mock server."""

from __future__ import annotations

import os

# Before pact is imported: the verifier honours only "true" (not "1").
os.environ["PACT_DO_NOT_TRACK"] = "true"

from collections.abc import Iterator
from pathlib import Path

import pytest
from pact import Pact

from contracts.pactfiles import CONSUMER, OUTPUT_ENV, PROVIDERS


@pytest.fixture(scope="session")
def pact_output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the consumer tests write pact files: ``$STORMPROOF_PACT_OUTPUT`` or a fresh temp dir.

    The committed files in ``contracts/pacts/`` are only ever replaced by
    ``python -m contracts.pactfiles update``, never by a test run.
    """
    configured = os.environ.get(OUTPUT_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("pacts")


def _pact(service: str, output: Path) -> Iterator[Pact]:
    pact = Pact(CONSUMER, PROVIDERS[service]).with_specification("V4")
    yield pact
    # Merges into the file other tests of this run wrote (the directory starts empty).
    pact.write_file(output)


@pytest.fixture
def users_pact(pact_output_dir: Path) -> Iterator[Pact]:
    """A fresh Pact with the users service."""
    yield from _pact("users", pact_output_dir)


@pytest.fixture
def notifications_pact(pact_output_dir: Path) -> Iterator[Pact]:
    """A fresh Pact with the notification service."""
    yield from _pact("notifications", pact_output_dir)


@pytest.fixture
def payments_pact(pact_output_dir: Path) -> Iterator[Pact]:
    """A fresh Pact with the payment service."""
    yield from _pact("payments", pact_output_dir)
