"""Mutation proof of the fault witnesses: a fault aimed where the calls never go reads inconclusive.

Each case pairs a scenario whose fault acts (it passes, and its evidence says so) with the same
scenario aimed elsewhere (another path, toxicity 0, a connection the breaker never opens), which
must read inconclusive, never passed: for every toxic type, the outage and every HTTP fault mode.
"""

from typing import Any, get_args

import pytest

from stormproof.chaos.runner import ScenarioRunner
from stormproof.chaos.toxiproxy import ToxiproxyClient, ToxiproxyNotFoundError
from stormproof.chaos.toxiproxy._toxics import KINDS
from stormproof.chaos.toxiproxy._toxics._http_attrs import HttpMode

GET_USER = {"op": "get_user", "with": {"user_id": "usr_1"}}

#: Attributes that make each toxic act on a GET without breaking the call past its retries.
ACTING = {
    "latency": {"latency": 30},
    "bandwidth": {"rate": 1000},
    "slicer": {"average_size": 8, "delay": 100},
    "noop": {},
    "timeout": {"timeout": 50},
    "reset_peer": {"timeout": 0},
    "limit_data": {"bytes": 20},
    "slow_close": {"delay": 10},
    "http": {"status": 503},
}


def _scenario(faults: list[dict[str, Any]], calls: list[dict[str, Any]], **extra: Any) -> dict:
    return {
        "name": "witness",
        "service": "users",
        "description": "a fault and the evidence that it fired",
        "setup": [{"state": "a user with id usr_1 exists"}],
        "phases": [{"name": "faulted", "faults": faults, "calls": calls}],
        **extra,
    }


def _any_outcome(times: int = 1) -> dict[str, Any]:
    # The outcome is not what these cases judge: only whether the fault fired.
    outcomes = "ok | ServiceUnavailableError | ReadTimeoutError | DeadlineExceededError"
    outcomes += " | ResponseValidationError | ResponseTruncatedError"
    return {**GET_USER, "times": times, "expect": {"outcome": outcomes}}


def test_the_registry_and_these_cases_cover_every_toxic_type():
    assert set(ACTING) == set(KINDS)


@pytest.mark.parametrize("toxic", sorted(ACTING))
def test_a_toxic_with_toxicity_zero_is_inconclusive(run_scenario, toxic):
    fault = {"toxic": toxic, "toxicity": 0.0, "attributes": ACTING[toxic]}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    assert result.verdict == "inconclusive", result.failure_message()
    [(phase, witness)] = result.unfired
    assert phase == "faulted"
    assert witness.strength == "proxy counters"
    assert "never acted" in witness.evidence


@pytest.mark.parametrize("toxic", sorted(set(ACTING) - {"slow_close"}))
def test_the_same_toxic_at_full_toxicity_fires(run_scenario, toxic):
    fault = {"toxic": toxic, "attributes": ACTING[toxic]}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    assert result.verdict == "passed", result.failure_message() or result.inconclusive_message()
    [witness] = result.phases[0].witnesses
    assert witness.fired
    assert witness.evidence.startswith("acted ")


def test_a_toxic_on_the_direction_that_never_reaches_its_limit_is_inconclusive(run_scenario):
    # The request carries far fewer than 100 kB upstream: the limit is never reached.
    fault = {"toxic": "limit_data", "stream": "upstream", "attributes": {"bytes": 100_000}}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    assert result.verdict == "inconclusive"


def test_slow_close_fires_only_when_a_connection_closes_during_the_phase(run_scenario):
    # Kept-alive connections are not closed during the phase: a slow_close has nothing to delay.
    fault = {"toxic": "slow_close", "attributes": {"delay": 10}}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    assert result.verdict == "inconclusive"


def test_an_outage_the_open_breaker_keeps_the_calls_from_meeting_is_inconclusive(run_scenario):
    opened = {
        "name": "opens the breaker",
        "faults": [{"proxy": "down"}],
        "calls": [{**GET_USER, "expect": {"outcome": "ServiceUnavailableError"}}],
    }
    unmet = {
        "name": "outage while open",
        "faults": [{"proxy": "down"}],
        "calls": [{**GET_USER, "expect": {"outcome": "CircuitOpenError", "attempts": 0}}],
    }
    scenario = _scenario([], [])
    scenario["profile"] = {"retry": {"max_attempts": 1}, "breaker": {"failure_threshold": 1}}
    scenario["phases"] = [opened, unmet]
    result = run_scenario(scenario)
    assert result.verdict == "inconclusive", result.failure_message()
    assert [w.fired for p in result.phases for w in p.witnesses] == [True, False]
    [(phase, witness)] = result.unfired
    assert phase == "outage while open"
    assert witness.evidence == "no attempt of the phase met the outage"


HTTP_MODES = {
    "status": {"mode": "status", "status": 503},
    "slow": {"mode": "slow", "delay_ms": 50},
    "malformed": {"mode": "malformed"},
    "truncated": {"mode": "truncated"},
}


#: Where an `http:` fault is made, and the evidence each route gives (missed, fired).
ROUTES = {
    "proxy": (
        "proxy counters",
        "no request was acted on (1 request seen, 0 matched)",
        "acted on 1 request of ",  # of 1 or 2 matched: the retry matches, the count is used up
    ),
    "provider": ("provider hit count", "no request matched the rule", "answered 1 request"),
}


@pytest.fixture(params=sorted(ROUTES))
def route(request, monkeypatch) -> tuple[str, str, str]:
    # The embedded proxy makes HTTP faults itself; the provider route is the one a real
    # Toxiproxy falls back to, taken here by telling the runner its proxy has no http toxic.
    has_http = request.param == "proxy"
    monkeypatch.setattr(ScenarioRunner, "_proxy_has_http", lambda *_: has_http)
    return ROUTES[request.param]


@pytest.mark.parametrize("mode", sorted(HTTP_MODES))
def test_an_http_fault_on_another_path_is_inconclusive(run_scenario, mode, route):
    strength, missed, _ = route
    fault = {"http": {**HTTP_MODES[mode], "path": "/users/usr_2"}}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    assert result.verdict == "inconclusive", result.failure_message()
    [(_, witness)] = result.unfired
    assert witness.evidence == missed
    assert witness.strength == strength


@pytest.mark.parametrize("mode", sorted(HTTP_MODES))
def test_the_same_http_fault_on_the_calls_path_fires(run_scenario, mode, route):
    strength, _, fired = route
    fault = {"http": {**HTTP_MODES[mode], "path": "/users/usr_1"}}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    assert result.verdict == "passed", result.failure_message() or result.inconclusive_message()
    [witness] = result.phases[0].witnesses
    assert witness.evidence.startswith(fired), witness.evidence
    assert witness.strength == strength


#: HTTP modes a scenario reaches only as `{toxic: http}` (the providers' fault rule has none).
TOXIC_ONLY_MODES = {
    "drip": {"mode": "drip", "delay_ms": 5, "drip_bytes": 64},
    "lost": {"mode": "lost", "apply": "after"},
}


def test_these_cases_cover_every_http_mode():
    assert set(HTTP_MODES) | set(TOXIC_ONLY_MODES) == set(get_args(HttpMode))


@pytest.mark.parametrize("mode", sorted(TOXIC_ONLY_MODES))
@pytest.mark.parametrize(("path", "verdict"), [("/users/usr_2", "inconclusive"),
                                               ("/users/usr_1", "passed")])  # fmt: skip
def test_an_http_toxic_fires_only_on_the_calls_path(run_scenario, mode, path, verdict):
    attributes = {**TOXIC_ONLY_MODES[mode], "path": path, "count": 1}
    result = run_scenario(_scenario([{"toxic": "http", "attributes": attributes}],
                                    [_any_outcome()]))  # fmt: skip
    assert result.verdict == verdict, result.failure_message() or result.inconclusive_message()
    [witness] = result.phases[0].witnesses
    assert witness.strength == "proxy counters"
    assert witness.fired is (verdict == "passed"), witness.evidence


def test_a_phase_without_calls_proves_nothing(run_scenario):
    result = run_scenario(_scenario([{"toxic": "latency", "attributes": {"latency": 10}}], []))
    assert result.inconclusive
    # A connection a previous client left open may still be counted: it carried nothing.
    assert "never acted" in result.inconclusive_message()


@pytest.fixture
def no_toxic_counters(monkeypatch):
    """The runner's proxy answers the stats route 404, as a real Toxiproxy does."""

    def real_toxiproxy(self, proxy, toxic):
        raise ToxiproxyNotFoundError(404, "page not found")

    monkeypatch.setattr(ToxiproxyClient, "toxic_stats", real_toxiproxy)


@pytest.mark.parametrize(("toxicity", "fired", "evidence"), [
    (0.0, False, "no attempt of the phase failed"),
    (1.0, True, "3 attempts of the phase failed"),  # the call and its 2 retries
])  # fmt: skip
def test_without_counters_a_breaking_toxic_fired_when_an_attempt_failed(
    run_scenario, no_toxic_counters, toxicity, fired, evidence
):
    fault = {"toxic": "reset_peer", "toxicity": toxicity, "attributes": {"timeout": 0}}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    [witness] = result.phases[0].witnesses
    assert (witness.fired, witness.evidence) == (fired, evidence)
    assert witness.strength == "client evidence"
    assert result.verdict == ("passed" if fired else "inconclusive")


def test_without_counters_another_toxic_fired_when_traffic_met_the_proxy(
    run_scenario, no_toxic_counters
):
    # The weaker evidence docs/scenarios.md describes: even at toxicity 0 the traffic met the
    # proxy while the toxic was on, which is all a real Toxiproxy shows.
    fault = {"toxic": "latency", "toxicity": 0.0, "attributes": ACTING["latency"]}
    result = run_scenario(_scenario([fault], [_any_outcome()]))
    [witness] = result.phases[0].witnesses
    assert witness.fired, witness.evidence
    assert witness.evidence == "1 attempt went through the proxy while it was on"
    assert witness.strength == "client evidence"
