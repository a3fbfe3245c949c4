"""What a provider verification found, per interaction, in plain immutable values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["InteractionResult", "VerificationResult", "parse_verifier_results"]


@dataclass(frozen=True, slots=True)
class InteractionResult:
    """The verification of one interaction.

    Attributes:
        description: The interaction's description, as the consumer wrote it.
        consumer: The consumer that wrote the interaction.
        provider_states: The provider states it was verified in.
        passed: Whether the provider answered as the contract says.
        pending: A pending interaction (broker feature): its failure does not fail the run.
        mismatches: One line per difference, naming the part (``body $.name``, ``header
            Retry-After``, ``status``) and what differed; empty when it passed.
    """

    description: str
    consumer: str
    provider_states: tuple[str, ...]
    passed: bool
    pending: bool
    mismatches: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of verifying one provider against its pacts.

    ``passed`` is True only when at least one interaction was verified and every non-pending
    interaction passed: zero verified interactions is a failure, never a silent pass.

    Attributes:
        provider: The provider name, as in the pacts (``users-service``).
        passed: The verdict.
        interactions: Per-interaction results, in the order they were verified.
        problems: Reasons for failure that belong to no single interaction (missing provider
            states, no interactions, a verifier error).
        output: The verifier's own report (plain text), for logs and reports.
        base_url: The provider URL the interactions were replayed against, if it got that far.
    """

    provider: str
    passed: bool
    interactions: tuple[InteractionResult, ...] = ()
    problems: tuple[str, ...] = ()
    output: str = ""
    base_url: str | None = None

    @property
    def failures(self) -> tuple[InteractionResult, ...]:
        """The interactions that failed and are not pending."""
        return tuple(i for i in self.interactions if not i.passed and not i.pending)

    def summary(self) -> str:
        """A short human-readable report: the verdict, each problem and each failed interaction.

        Returns:
            Lines such as ``users-service: FAILED, 12 of 13 interactions verified`` followed by
            ``  - 'a request for user usr_1': body $: Actual map is missing ... name``.
        """
        ok = sum(1 for i in self.interactions if i.passed)
        verdict = "passed" if self.passed else "FAILED"
        total = len(self.interactions)
        lines = [f"{self.provider}: {verdict}, {ok} of {total} interactions verified"]
        lines.extend(f"  ! {problem}" for problem in self.problems)
        for item in self.failures:
            for mismatch in item.mismatches or ("failed without a mismatch report",):
                lines.append(f"  - {item.description!r}: {mismatch}")
        return "\n".join(lines)


def _describe(mismatch: Mapping[str, Any]) -> str:
    kind = str(mismatch.get("type", ""))
    text = str(mismatch.get("mismatch") or mismatch.get("message") or "").strip()
    expected, actual = mismatch.get("expected"), mismatch.get("actual")
    if kind == "BodyMismatch":
        where = f"body {mismatch.get('path', '$')}"
    elif kind == "HeaderMismatch":
        where = f"header {mismatch.get('key', '?')}"
    elif kind == "StatusMismatch":
        return f"status: expected {expected}, got {actual}"
    elif kind == "QueryMismatch":
        where = f"query {mismatch.get('parameter', '?')}"
    else:
        where = kind or "mismatch"
    if expected is not None and actual is not None and kind == "BodyMismatch":
        return f"{where}: {text} (expected {expected}, actual {actual})"
    return f"{where}: {text}"


def _mismatches(entry: Mapping[str, Any]) -> tuple[str, ...]:
    report = entry.get("mismatch")
    if not isinstance(report, Mapping):
        return ()
    listed = report.get("mismatches")
    if isinstance(listed, list) and listed:
        return tuple(_describe(m) for m in listed if isinstance(m, Mapping))
    message = report.get("message") or report.get("error") or report.get("type")
    return (f"error: {message}",) if message else ()


def parse_verifier_results(raw: Mapping[str, Any]) -> tuple[InteractionResult, ...]:
    """Turn the verifier's JSON report (``Verifier.results``) into interaction results.

    Args:
        raw: The parsed report (``interactionResults``, ``errors``, ``result``).

    Returns:
        One result per verified interaction.
    """
    results: list[InteractionResult] = []
    for entry in raw.get("interactionResults") or []:
        if not isinstance(entry, Mapping):
            continue
        states = entry.get("providerStates") or []
        results.append(
            InteractionResult(
                description=str(entry.get("description", "")),
                consumer=str(entry.get("consumer", "")),
                provider_states=tuple(str(s) for s in states),
                passed=entry.get("result") == "OK",
                pending=bool(entry.get("pending", False)),
                mismatches=_mismatches(entry),
            )
        )
    return tuple(results)
