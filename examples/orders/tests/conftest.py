"""Fixtures of the orders consumer tests: one Pact per test, a no-retry client on its mock."""

from __future__ import annotations

import os

# Before pact is imported: the verifier and the mock server honour only "true".
os.environ["PACT_DO_NOT_TRACK"] = "true"

from collections.abc import Iterator
from pathlib import Path

import pytest
from pact import Pact

CONSUMER = "orders-client"
PROVIDER = "orders-service"
OUTPUT_ENV = "ORDERS_PACT_OUTPUT"


@pytest.fixture(scope="session")
def pact_output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pact file goes: `$ORDERS_PACT_OUTPUT`, else a fresh temporary folder.

    The committed `pacts/` is only replaced on purpose (see the README), never by a test run.
    """
    configured = os.environ.get(OUTPUT_ENV)
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("pacts")


@pytest.fixture
def orders_pact(pact_output_dir: Path) -> Iterator[Pact]:
    """A fresh Pact with the orders service, merged into the run's pact file afterwards."""
    pact = Pact(CONSUMER, PROVIDER).with_specification("V4")
    yield pact
    pact.write_file(pact_output_dir)
