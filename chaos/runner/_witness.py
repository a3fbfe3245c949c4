"""Fault witnesses: the evidence that a fault a phase applied really fired during that phase.

A phase whose fault never fired proves nothing about the client, so its scenario is inconclusive,
never passed. The evidence, strongest first:
- a toxic on the embedded proxy: its own counters (`acted` > 0: it delayed, cut, held or reset
  traffic of this phase);
- an HTTP fault rule: its hit count on the provider (requests it answered);
- a toxic on a real Toxiproxy, which keeps no such counters, and an outage: the client's own
  attempts. An outage fired when an attempt of the phase failed without an HTTP answer; a toxic
  that breaks connections (`reset_peer`, `timeout`, `limit_data`) when an attempt failed; any
  other toxic when an attempt went through the proxy while it was on. That is weaker: it shows the
  traffic met the proxy, not that the toxic acted on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from stormproof.chaos.runner._records import AttemptRecord, Witness
from stormproof.chaos.toxiproxy import ToxicStats

#: Toxics whose effect a client sees as a failed attempt.
_BREAKING_TOXICS = frozenset({"reset_peer", "timeout", "limit_data"})


def _times(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def from_toxic_counters(fault: str, *, acted: int, connections: int, byte_count: int) -> Witness:
    """A toxic's witness from the embedded proxy's counters."""
    if acted == 0:
        evidence = (
            f"never acted (active on {_times(connections, 'connection')} of the phase)"
            if connections
            else "never acted: its toxicity roll picked none of the phase's connections, or "
            "there were none"
        )
    else:
        evidence = f"acted {_times(acted, 'time')} on {_times(connections, 'connection')}"
        if byte_count:
            evidence += f", {byte_count:,} bytes"
    return Witness(fault, acted > 0, evidence, "proxy counters")


def from_rule_hits(fault: str, hits: int) -> Witness:
    """An HTTP fault's witness from its rule's hit count."""
    if hits == 0:
        return Witness(fault, False, "no request matched the rule", "provider hit count")
    return Witness(fault, True, f"answered {_times(hits, 'request')}", "provider hit count")


def from_http_toxic(fault: str, stats: ToxicStats) -> Witness:
    """An HTTP fault's witness from the embedded proxy's `http` toxic counters."""
    if stats.acted == 0:
        evidence = (
            f"no request was acted on ({_times(stats.requests, 'request')} seen, "
            f"{stats.matched} matched"
        )
        if stats.not_http:
            evidence += f", {_times(stats.not_http, 'connection')} not HTTP"
        return Witness(fault, False, evidence + ")", "proxy counters")
    evidence = f"acted on {_times(stats.acted, 'request')} of {stats.matched} matched"
    return Witness(fault, True, evidence, "proxy counters")


def from_outage(fault: str, attempts: Sequence[AttemptRecord]) -> Witness:
    """An outage's witness: attempts of the phase that got no HTTP answer."""
    refused = sum(1 for a in attempts if a.status_code is None and a.outcome != "ok")
    if refused == 0:
        return Witness(fault, False, "no attempt of the phase met the outage", "client evidence")
    return Witness(
        fault, True, f"{_times(refused, 'attempt')} failed without an answer", "client evidence"
    )


def from_client_attempts(fault: str, toxic: str, attempts: Sequence[AttemptRecord]) -> Witness:
    """A toxic's witness on a real Toxiproxy: what the client's attempts show (weaker)."""
    if toxic in _BREAKING_TOXICS:
        failed = sum(1 for a in attempts if a.outcome != "ok")
        if failed == 0:
            return Witness(fault, False, "no attempt of the phase failed", "client evidence")
        return Witness(
            fault, True, f"{_times(failed, 'attempt')} of the phase failed", "client evidence"
        )
    if not attempts:
        return Witness(fault, False, "no attempt went through the proxy", "client evidence")
    return Witness(
        fault,
        True,
        f"{_times(len(attempts), 'attempt')} went through the proxy while it was on",
        "client evidence",
    )
