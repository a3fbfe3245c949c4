"""Judging: each expectation that fails is named in the reviewer's words and the right category."""

from dataclasses import replace

from stormproof.chaos.runner import CallRecord, Finding, PhaseRecord
from stormproof.chaos.runner._judge import judge_call, judge_phase, judge_side_effects, primary
from stormproof.chaos.runner._records import AttemptRecord, BreakerTransition
from stormproof.chaos.scenario import (
    SCENARIO_POLICY,
    CallExpectation,
    PhaseExpectation,
    ScenarioExpectation,
)
from stormproof.providers import NotificationsAdapter, PaymentsAdapter


def _attempt(n: int, method: str = "GET", key: str | None = None) -> AttemptRecord:
    return AttemptRecord(
        attempt=n, method=method, path="/x", offset_s=0.0, elapsed_s=0.1,
        outcome="ReadTimeoutError",
        status_code=None, breaker_state="CLOSED", idempotency_key=key, will_retry=False,
        backoff_s=None,
    )  # fmt: skip


def _call(outcome="ok", attempts=1, elapsed=0.1, breaker="CLOSED", method="GET", key=None):
    return CallRecord(
        phase="outage", op="get_user", index=0, outcome=outcome, attempts=attempts,
        elapsed_s=elapsed, offset_s=0.0, breaker_after=breaker, idempotency_key=key, error=None,
        attempt_records=tuple(_attempt(i + 1, method, key) for i in range(attempts)),
    )  # fmt: skip


POLICY = replace(SCENARIO_POLICY, deadline_s=1.0)
TOLERANCE_S = 0.1


def _expect(**fields) -> CallExpectation:
    return CallExpectation.model_validate(fields)


def test_a_call_that_did_what_was_expected_has_no_findings():
    expect = _expect(outcome="ok", attempts=1, breaker_after="CLOSED")
    assert judge_call(expect, _call(), POLICY, TOLERANCE_S) == []


def test_wrong_outcome_names_the_call_and_both_outcomes():
    [finding] = judge_call(
        _expect(outcome="ok"), _call(outcome="ReadTimeoutError"), POLICY, TOLERANCE_S
    )
    assert finding.category == "Wrong outcome"
    assert finding.message.startswith(
        "outage: get_user #1 ended in ReadTimeoutError after 1 attempt"
    )
    assert finding.message.endswith("expected ok")


def test_too_few_attempts_is_did_not_retry():
    findings = judge_call(_expect(outcome="ok", attempts={"min": 2}), _call(), POLICY, TOLERANCE_S)
    assert [f.category for f in findings] == ["Did not retry"]
    assert "made 1 attempt; expected at least 2" in findings[0].message


def test_retrying_an_unkeyed_post_is_named_as_such():
    record = _call(outcome="ReadTimeoutError", attempts=3, method="POST")
    findings = judge_call(
        _expect(outcome="ReadTimeoutError", attempts=1), record, POLICY, TOLERANCE_S
    )
    assert [f.category for f in findings] == ["Retried a non-idempotent call"]
    keyed = _call(outcome="ReadTimeoutError", attempts=3, method="POST", key="k")
    findings = judge_call(
        _expect(outcome="ReadTimeoutError", attempts=1), keyed, POLICY, TOLERANCE_S
    )
    assert [f.category for f in findings] == ["Too many attempts"]


def test_a_call_past_deadline_plus_tolerance_is_deadline_exceeded():
    assert judge_call(_expect(), _call(elapsed=1.09), POLICY, TOLERANCE_S) == []
    [finding] = judge_call(_expect(), _call(elapsed=1.2), POLICY, TOLERANCE_S)
    assert finding.category == "Deadline exceeded"
    assert "took 1.20 s; the deadline is 1.00 s (+0.10 s tolerance)" in finding.message


def test_breaker_expectations_after_a_call():
    [finding] = judge_call(
        _expect(breaker_after="OPEN"), _call(breaker="CLOSED"), POLICY, TOLERANCE_S
    )
    assert finding.category == "Breaker did not open"
    assert finding.message.startswith("breaker was CLOSED after outage: get_user #1")


def test_phase_breaker_path_in_reviewer_words():
    record = PhaseRecord(name="failures", breaker_start="CLOSED")
    record.calls = [_call(outcome="ServiceUnavailableError")] * 5
    [finding] = judge_phase(PhaseExpectation(breaker_path=["CLOSED", "OPEN"]), record)
    assert finding.category == "Breaker did not open"
    assert finding.message == (
        "breaker stayed CLOSED after 5 failed call(s) in phase 'failures'; expected CLOSED → OPEN"
    )


def test_phase_breaker_that_never_closes():
    record = PhaseRecord(name="probe", breaker_start="OPEN")
    record.transitions = [BreakerTransition("OPEN", "HALF_OPEN", 0.6)]
    expect = PhaseExpectation(breaker_path=["OPEN", "HALF_OPEN", "CLOSED"])
    [finding] = judge_phase(expect, record)
    assert finding.category == "Breaker did not close"
    assert "OPEN → HALF_OPEN" in finding.message


def test_provider_traffic_while_open_is_its_own_category():
    record = PhaseRecord(name="open", breaker_start="OPEN", provider_requests=2)
    [finding] = judge_phase(PhaseExpectation.model_validate({"provider_requests": 0}), record)
    assert finding.category == "Network used while breaker open"
    assert (
        finding.message == "the provider saw 2 request(s) during phase 'open'; expected exactly 0"
    )


class _Ledger(PaymentsAdapter):
    def __init__(self, ledger):
        super().__init__("http://127.0.0.1:9")
        self.ledger = ledger

    def _ledger(self):
        return self.ledger


class _Sent(NotificationsAdapter):
    def __init__(self, sent):
        super().__init__("http://127.0.0.1:9")
        self.sent = sent

    def _sent(self):
        return self.sent


def test_duplicate_charge_and_over_refund_in_the_adapters_words():
    ledger = {
        "charges": [
            {"idempotency_key": "k1", "payment_id": "p1", "amount": 100},
            {"idempotency_key": "k1", "payment_id": "p2", "amount": 100},
        ],
        "refunds": [{"idempotency_key": "r1", "payment_id": "p1", "amount": 150}],
    }
    expect = ScenarioExpectation.model_validate(
        {"side_effects": {"charges": {"max_per_key": 1}}, "invariants": ["refunds_within_captured"]}
    )
    findings = judge_side_effects(expect, _Ledger(ledger))
    assert [f.category for f in findings] == ["Duplicate charge", "Refund above captured amount"]
    assert findings[0].message == "idempotency key k1 was charged 2 times; expected at most 1"
    assert findings[1].message == "payment p1 was refunded 150 but only 100 was captured"
    assert judge_side_effects(ScenarioExpectation(), _Ledger(ledger)) == []


def test_duplicate_notification():
    sent = [{"idempotency_key": "n1"}, {"idempotency_key": "n1"}]
    expect = ScenarioExpectation.model_validate({"side_effects": {"sent": {"max_per_key": 1}}})
    [finding] = judge_side_effects(expect, _Sent(sent))
    assert finding.category == "Duplicate notification"
    assert primary([Finding("Wrong outcome", "a"), finding]) == finding


def test_primary_prefers_the_specific_category():
    findings = [Finding("Wrong outcome", "a"), Finding("Did not retry", "b")]
    assert primary(findings) == findings[1]
    assert primary([]) is None
