"""A scenario interrupted mid-way leaves no toxic, no disabled proxy and no provider fault behind.

Each case runs a scenario whose phase stacks two toxics, a proxy outage and a provider fault,
and breaks it somewhere: Ctrl-C inside a client call, Ctrl-C while a fault is being applied
(after Toxiproxy took the toxic, before its answer came back), a crash in an observer step, a
bad input reference in a later call. Whatever escapes ``ScenarioRunner.run``, the proxy and the
provider are clean right after it, before any fixture tidies up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
import requests.adapters

from stormproof.chaos.runner import (
    HARNESS_ERROR,
    ChaosEnvironment,
    NullObserver,
    ScenarioRunner,
)
from stormproof.chaos.scenario import Scenario
from stormproof.chaos.toxiproxy import ToxiproxyClient

SCENARIO = Scenario.model_validate(
    {
        "name": "interrupted",
        "service": "payments",
        "description": "faults stacked, then the run is broken mid-way",
        "phases": [
            {
                "name": "stacked faults",
                "faults": [
                    {"toxic": "latency", "stream": "downstream", "attributes": {"latency": 5}},
                    {"toxic": "limit_data", "stream": "upstream", "attributes": {"bytes": 10**6}},
                    {"http": {"status": 503, "count": 50, "method": "GET"}},
                    {"proxy": "down"},
                ],
                "calls": [
                    {
                        "op": "get_payment",
                        "with": {"payment_id": "pay_1"},
                        "expect": {"outcome": "ok"},
                    },
                    {"op": "get_payment", "with": {"payment_id": "${nothing.id}"}},
                ],
            }
        ],
    }
)


class _Interrupted(Exception):
    """Stands for a crash in a step."""


class _BreakingObserver(NullObserver):
    """An observer whose step called ``title`` raises ``error``."""

    def __init__(self, title_prefix: str, error: BaseException) -> None:
        self.title_prefix = title_prefix
        self.error = error
        self.seen: list[str] = []

    def step(self, title: str) -> AbstractContextManager[None]:
        self.seen.append(title)

        @contextmanager
        def step() -> Iterator[None]:
            if title.startswith(self.title_prefix):
                raise self.error
            yield

        return step()


def _leftovers(environment: ChaosEnvironment, toxiproxy: ToxiproxyClient) -> list[str]:
    endpoint = environment.endpoint("payments")
    found = [f"toxic {t.name}" for t in toxiproxy.toxics(endpoint.proxy)]
    if not toxiproxy.get_proxy(endpoint.proxy).enabled:
        found.append("proxy disabled")
    found += [f"provider fault {rule}" for rule in environment.adapter("payments").active_faults()]
    return found


def _run(environment: ChaosEnvironment, observer: NullObserver | None = None) -> Any:
    return ScenarioRunner(environment, seed=3, observer=observer).run(SCENARIO)


def test_ctrl_c_inside_a_client_call(chaos_rollback, toxiproxy, monkeypatch):
    real_send = requests.adapters.HTTPAdapter.send
    client_url = chaos_rollback.endpoint("payments").client_url
    interrupted: list[str] = []

    def send_then_interrupt(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not request.url.startswith(client_url):  # the harness's own API calls
            return real_send(self, request, *args, **kwargs)
        interrupted.append(request.url)
        try:
            real_send(self, request, *args, **kwargs)  # the attempt runs under the faults
        finally:
            raise KeyboardInterrupt

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _run(chaos_rollback)
    monkeypatch.undo()
    assert interrupted == [f"{client_url}/payments/pay_1"]
    assert _leftovers(chaos_rollback, toxiproxy) == []


def test_ctrl_c_while_a_toxic_is_being_added(chaos_rollback, toxiproxy, monkeypatch):
    # Toxiproxy took the toxic but the interrupt came before its answer reached the runner.
    real_add = ToxiproxyClient.add_toxic
    added: list[str] = []

    def add_then_interrupt(self: ToxiproxyClient, *args: Any, **kwargs: Any) -> Any:
        toxic = real_add(self, *args, **kwargs)
        if toxic.name == "stormproof-http-probe":  # the runner asking whether HTTP toxics exist
            return toxic
        added.append(toxic.name)
        if len(added) == 2:
            raise KeyboardInterrupt
        return toxic

    monkeypatch.setattr(ToxiproxyClient, "add_toxic", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        _run(chaos_rollback)
    monkeypatch.undo()
    assert added == ["latency_downstream", "limit_data_upstream"]
    assert _leftovers(chaos_rollback, toxiproxy) == []


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("proxy down", KeyboardInterrupt()),  # the last fault, while the others are on
        ("HTTP status", _Interrupted("crash")),
        ("Lift faults", _Interrupted("crash while lifting")),
    ],
    ids=["ctrl-c-applying-outage", "crash-applying-http-fault", "crash-lifting"],
)
def test_a_crash_in_a_step(chaos_rollback, toxiproxy, step: str, error: BaseException):
    observer = _BreakingObserver(step, error)
    if isinstance(error, Exception):
        # A crash is the harness's failure, reported as such; the run goes on to the next one.
        result = _run(chaos_rollback, observer)
        assert result.primary is not None
        assert result.primary.category == "Harness error"
        assert f"_Interrupted: {error}" in result.primary.message
    else:
        with pytest.raises(type(error)):
            _run(chaos_rollback, observer)
    # The crash came with faults on: both toxics had been applied before it.
    assert [t for t in observer.seen if t.startswith("toxic ")] == [
        "toxic latency on downstream (jitter=0, latency=5)",
        "toxic limit_data on upstream (bytes=1000000)",
    ]
    assert observer.seen[-1].startswith(step)
    assert _leftovers(chaos_rollback, toxiproxy) == []


def test_a_bad_input_reference_in_a_later_call(chaos_rollback, toxiproxy):
    result = _run(chaos_rollback)
    assert result.primary is not None
    assert result.primary.category == HARNESS_ERROR
    assert "nothing" in result.primary.message
    assert _leftovers(chaos_rollback, toxiproxy) == []
