"""Payment safety as a property: random faults around charges and refunds never double-charge.

Each run (seeded by its number) drives the real ``PaymentServiceClient`` through the embedded
Toxiproxy to the real payments provider: one ``create_payment`` and one to three
``refund_payment`` calls, each under zero to three random faults (reset_peer, limit_data,
timeout and latency toxics in either direction, a proxy outage, provider 429/5xx, truncated,
malformed or slow answers, before or after the handler). Then, from the provider's ledger:

* at most one charge per Idempotency-Key, and a call that failed with anything but
  ``PaymentOutcomeUnknownError`` charged (or refunded) nothing;
* refunds of a payment never add up to more than its captured amount;
* every ``PaymentOutcomeUnknownError`` is reconciled once the faults are lifted: looking the
  payment up by key agrees with the ledger, and repeating the call with the same key ends it
  with exactly one charge (or refund).

The suite runs ``STORMPROOF_PAYMENT_RUNS`` runs (default 30); ``STORMPROOF_PAYMENT_RUNS=200``
is the full property.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from stormproof.chaos.runner import (
    FaultInjector,
    ServiceEndpoint,
    start_environment,
)
from stormproof.chaos.scenario import Fault, HttpFault, ProxyFault, ToxicFault
from stormproof.chaos.toxiproxy import ToxiproxyClient
from stormproof.clients import (
    BreakerPolicy,
    ClientRequestError,
    ConflictError,
    NotFoundError,
    Payment,
    PaymentOutcomeUnknownError,
    PaymentServiceClient,
    ResiliencePolicy,
    RetryPolicy,
    ServiceError,
)
from stormproof.providers import FaultRuleSpec, PaymentsAdapter
from tests.reliability._figures import count

RUNS = int(os.environ.get("STORMPROOF_PAYMENT_RUNS", "30"))
SECTION = "payment safety"
T = TypeVar("T")

# Short timeouts so a run costs a fraction of a second even under a black hole.
FAULTY = ResiliencePolicy(
    connect_timeout_s=0.2,
    read_timeout_s=0.2,
    deadline_s=0.7,
    retry=RetryPolicy(
        max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05, max_retry_after_s=0.2
    ),
    breaker=BreakerPolicy(enabled=False),
)
# Reconciliation runs after the faults are lifted; a slow-after answer may still be in flight.
CALM = ResiliencePolicy(
    connect_timeout_s=1.0,
    read_timeout_s=2.0,
    deadline_s=4.0,
    retry=RetryPolicy(max_attempts=5, initial_backoff_s=0.05, max_backoff_s=0.2),
    breaker=BreakerPolicy(enabled=False),
)


@dataclass
class Wiring:
    """The payments proxy and provider, and how to inject faults on them."""

    endpoint: ServiceEndpoint
    injector: FaultInjector
    control: PaymentsAdapter


@pytest.fixture(scope="module")
def wiring() -> Iterator[Wiring]:
    with start_environment(seed=20261129) as environment:
        endpoint = environment.endpoint("payments")
        control = PaymentsAdapter(endpoint.provider_url)
        with ToxiproxyClient(environment.toxiproxy_url) as toxiproxy:
            injector = FaultInjector(toxiproxy, endpoint, control)
            yield Wiring(endpoint, injector, control)


def random_fault(rng: random.Random, index: int) -> Fault:
    """One random fault (toxics get unique names so several of a kind can stack)."""
    stream = rng.choice(["upstream", "downstream"])
    toxicity = rng.choice([1.0, 1.0, 0.5])
    name = f"fault{index}"
    kind = rng.choice(["reset_peer", "limit_data", "timeout", "latency", "outage", "http", "http"])
    toxic_attributes = {
        "reset_peer": lambda: {"timeout": rng.choice([0, 20, 150])},
        "limit_data": lambda: {"bytes": rng.randint(0, 400)},
        "timeout": lambda: {"timeout": rng.choice([0, 50, 300])},
        "latency": lambda: {"latency": rng.choice([50, 150, 400]), "jitter": 20},
    }
    if kind in toxic_attributes:
        attributes = toxic_attributes[kind]()
        return ToxicFault(
            toxic=kind, stream=stream, toxicity=toxicity, attributes=attributes, name=name
        )
    if kind == "outage":
        return ProxyFault(proxy="down")
    mode = rng.choice(["status", "status", "status", "truncated", "malformed", "slow"])
    status = rng.choice([503, 503, 429, 500, 502, 504])
    # A 429 promises the request was not processed (the client reports RateLimitedError, "nothing
    # was charged", as payments-429-retry-after-beyond-deadline expects), so it never comes
    # after the handler: a service that charged and then answered 429 would break that promise.
    apply = "before" if mode == "status" and status == 429 else rng.choice(["before", "after"])
    spec = FaultRuleSpec(
        mode=mode,
        count=rng.randint(1, 3),
        method="POST",
        status=status,
        retry_after=rng.choice([None, "0", "1"]),
        delay_ms=rng.choice([300, 600]) if mode == "slow" else 0,
        apply=apply,
    )
    return HttpFault(http=spec)


@dataclass
class RunRecord:
    """What one run did, for the figures and the failure message."""

    seed: int
    steps: list[str] = field(default_factory=list)


def _under_faults(
    wiring: Wiring, rng: random.Random, record: RunRecord, call: Callable[[], T]
) -> T | ServiceError:
    faults = [random_fault(rng, i) for i in range(rng.randint(0, 3))]
    record.steps.append(f"faults: {[f.model_dump(exclude_defaults=True) for f in faults]}")
    try:
        for fault in faults:
            wiring.injector.apply(fault)
        try:
            return call()
        except ServiceError as error:
            return error
    finally:
        problems = wiring.injector.lift()
        assert not problems, problems


def _settle(call: Callable[[], T], what: str) -> T | ClientRequestError:
    """Repeat a call (same key) until it ends definitively: a result, or a 4xx refusal."""
    ends = time.monotonic() + 15.0
    for _ in range(30):
        try:
            return call()
        except ConflictError as error:  # the first request is still in flight (slow-after)
            last: ServiceError = error
        except ClientRequestError as error:
            return error
        except ServiceError as error:  # e.g. a connection the lifted toxic closed under us
            last = error
        if time.monotonic() > ends:
            break
        time.sleep(0.1)
    raise AssertionError(f"{what} never settled after the faults were lifted: {last!r}")


def _ledger(wiring: Wiring) -> dict[str, Any]:
    return dict(wiring.control.snapshot()["ledger"])


def one_run(wiring: Wiring, seed: int) -> None:
    """One seeded run: a charge and a few refunds under random faults, then the checks."""
    rng = random.Random(seed)
    record = RunRecord(seed)
    wiring.control.reset()
    base = wiring.endpoint.client_url
    with (
        PaymentServiceClient(base, policy=FAULTY) as faulty,
        PaymentServiceClient(base, policy=CALM) as calm,
    ):
        try:
            _one_run(wiring, rng, record, faulty, calm)
        except AssertionError as error:
            steps = "\n  ".join(record.steps)
            raise AssertionError(f"run {seed}: {error}\n  {steps}") from None


def _one_run(
    wiring: Wiring,
    rng: random.Random,
    record: RunRecord,
    faulty: PaymentServiceClient,
    calm: PaymentServiceClient,
) -> None:
    amount = rng.randint(1, 5000)
    key = f"pay-{record.seed}"
    args: dict[str, Any] = {
        "amount": amount,
        "currency": "EUR",
        "user_id": "usr_1",
        "payment_method_token": "tok",
    }
    outcome = _under_faults(
        wiring, rng, record, lambda: faulty.create_payment(**args, idempotency_key=key)
    )
    record.steps.append(f"create_payment -> {outcome!r}")
    count(SECTION, f"create {type(outcome).__name__}")
    charges = _charges(wiring, key)
    if isinstance(outcome, Payment):
        assert charges == 1, f"create_payment succeeded but the ledger has {charges} charges"
    elif isinstance(outcome, PaymentOutcomeUnknownError):
        assert outcome.idempotency_key == key
        assert charges <= 1, f"{charges} charges for one key"
        _reconcile_lookup(wiring, calm, key, record, charged=charges == 1)
    else:
        assert charges == 0, f"create_payment failed definitively ({outcome!r}) yet charged"
    # Reconcile (or simply carry on): repeating with the same key never charges twice.
    payment = _settle(lambda: calm.create_payment(**args, idempotency_key=key), "create_payment")
    assert isinstance(payment, Payment), f"retrying the charge was refused: {payment!r}"
    assert _charges(wiring, key) == 1, "the charge is not exactly one after reconciliation"
    if isinstance(outcome, PaymentOutcomeUnknownError):
        count(SECTION, "create unknown reconciled")

    for index in range(rng.randint(1, 3)):
        _one_refund(wiring, rng, record, faulty, calm, payment, index)

    ledger = _ledger(wiring)
    refunded = sum(r["amount"] for r in ledger["refunds"] if r["payment_id"] == payment.id)
    final = calm.get_payment(payment.id)
    assert refunded <= amount, f"refunds total {refunded} above the captured {amount}"
    assert final.refunded_amount == refunded, (final, refunded)
    for item_key, per_key in ledger["by_key"].items():
        assert per_key["charges"] <= 1, (item_key, per_key)
        assert per_key["refunds"] <= 1, (item_key, per_key)
    count(SECTION, "runs")
    count(SECTION, "charges", len(ledger["charges"]))
    count(SECTION, "refunds", len(ledger["refunds"]))


def _one_refund(
    wiring: Wiring,
    rng: random.Random,
    record: RunRecord,
    faulty: PaymentServiceClient,
    calm: PaymentServiceClient,
    payment: Payment,
    index: int,
) -> None:
    key = f"refund-{record.seed}-{index}"
    amount = rng.choice([None, rng.randint(1, payment.amount), payment.amount + rng.randint(1, 99)])
    outcome = _under_faults(
        wiring, rng, record, lambda: faulty.refund_payment(payment.id, amount, key)
    )
    record.steps.append(f"refund_payment({amount}) -> {outcome!r}")
    count(SECTION, f"refund {type(outcome).__name__}")
    refunds = _refunds(wiring, key)
    if isinstance(outcome, PaymentOutcomeUnknownError):
        assert outcome.idempotency_key == key
        assert refunds <= 1
        settled = _settle(lambda: calm.refund_payment(payment.id, amount, key), "refund_payment")
        record.steps.append(f"refund reconciled -> {settled!r}")
        expected = 0 if isinstance(settled, ClientRequestError) else 1
        assert _refunds(wiring, key) == expected, "refund not exactly once after reconciliation"
        count(SECTION, "refund unknown reconciled")
    elif isinstance(outcome, ServiceError):
        assert refunds == 0, f"refund_payment failed definitively ({outcome!r}) yet refunded"
    else:
        assert refunds == 1


def _reconcile_lookup(
    wiring: Wiring, calm: PaymentServiceClient, key: str, record: RunRecord, *, charged: bool
) -> None:
    """Look the payment up by key, as a caller reconciling an unknown outcome would.

    The lookup must find a charge the ledger already holds; it may also find one that landed
    since (a request a lifted toxic had held back), never one the ledger does not know.
    """
    try:
        found = calm.get_payment_by_idempotency_key(key)
    except NotFoundError:
        record.steps.append("lookup by key: not charged")
        assert not charged, "the ledger holds a charge the lookup by key did not find"
        count(SECTION, "create unknown: lookup said not charged")
        return
    record.steps.append(f"lookup by key: {found.id}")
    charge_ids = [
        c["payment_id"] for c in _ledger(wiring)["charges"] if c["idempotency_key"] == key
    ]
    assert charge_ids == [found.id], f"lookup found {found.id}, the ledger has {charge_ids}"
    count(SECTION, "create unknown: lookup found the charge")


def _charges(wiring: Wiring, key: str) -> int:
    return int(_ledger(wiring)["by_key"].get(key, {}).get("charges", 0))


def _refunds(wiring: Wiring, key: str) -> int:
    return int(_ledger(wiring)["by_key"].get(key, {}).get("refunds", 0))


def test_random_faults_never_double_charge_or_over_refund(wiring: Wiring) -> None:
    for seed in range(RUNS):
        one_run(wiring, seed)
    assert wiring.injector.leftovers() == []
