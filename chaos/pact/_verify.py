"""Verifying a provider against pact files, with provider states set through ``/_test/states``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stormproof.chaos.pact._env import ensure_do_not_track
from stormproof.chaos.pact._files import provider_states, read_pact
from stormproof.chaos.pact._result import VerificationResult, parse_verifier_results

if TYPE_CHECKING:
    from pact import Verifier

__all__ = ["service_of", "verify_provider"]

STATES_PATH = "/_test/states"
_STATE_FAILED = "state change handlers has failed"  # the verifier's words, sic
_SUFFIX = "-service"


def service_of(provider: str) -> str:
    """The reference-provider service name behind a pact provider name.

    Args:
        provider: ``users-service`` (the pact name) or ``users``.

    Returns:
        ``users``.
    """
    return provider.removesuffix(_SUFFIX)


def missing_handlers(provider: str, states: Sequence[str]) -> list[str] | None:
    """The states no handler of the reference provider knows (None: not a reference provider)."""
    from stormproof import providers  # noqa: PLC0415 - the FastAPI apps load only when verifying

    service = service_of(provider)
    if service not in providers.SERVICES:
        return None
    return providers.missing_states(service, states)


def missing_states_problem(provider: str, missing: Sequence[str]) -> str:
    """The message for states without a handler (the verifier would stall on each of them)."""
    from stormproof import providers  # noqa: PLC0415

    listed = ", ".join(repr(state) for state in missing)
    known = "; ".join(providers.STATE_NAMES.get(service_of(provider), ()))
    return (
        f"{len(missing)} provider state(s) in the pacts have no handler in {provider}: {listed}. "
        f"Known states: {known}. Nothing was verified."
    )


def new_verifier(provider: str, base_url: str) -> Verifier:
    """A verifier that replays against ``base_url`` and sets states via its ``/_test/states``."""
    ensure_do_not_track()
    from pact import Verifier  # noqa: PLC0415 - loads the Rust FFI

    url = base_url.rstrip("/")
    verifier = Verifier(provider, host=urlsplit(url).hostname).add_transport(url=url)
    verifier.set_coloured_output(enabled=False)
    verifier.state_handler(url + STATES_PATH, teardown=True, body=True)
    return verifier


def run_verifier(
    verifier: Verifier, provider: str, base_url: str, problems: Sequence[str] = ()
) -> VerificationResult:
    """Run a configured verifier and judge its report.

    Args:
        verifier: The verifier, with transport, sources and state handler set.
        provider: The provider name.
        base_url: Where it replays (for the result).
        problems: Problems found before running.

    Returns:
        The result; a verifier exception becomes a problem, never propagates.
    """
    found = list(problems)
    error: Exception | None = None
    try:
        verifier.verify()
    except RuntimeError as exc:  # raised on any failure; the details are in the report
        error = exc
    raw: dict[str, Any] = verifier.results
    interactions = parse_verifier_results(raw)
    if not interactions:
        found.append("no interaction was verified (empty pacts or none for this provider)")
    failed = any(not i.passed and not i.pending for i in interactions)
    if any(_STATE_FAILED in m for i in interactions for m in i.mismatches):
        found.append(
            f"provider states could not be set up through {base_url}{STATES_PATH} "
            "(is the provider running in test mode? are the state's parameters valid?)"
        )
    if error is not None and not failed:
        found.append(f"the verifier failed: {error}")
    return VerificationResult(
        provider=provider,
        passed=bool(raw.get("result")) and bool(interactions) and not failed and not found,
        interactions=interactions,
        problems=tuple(found),
        output=verifier.output(strip_ansi=True),
        base_url=base_url,
    )


@contextmanager
def served(provider: str) -> Iterator[str]:
    """Start the reference provider behind ``provider`` in test mode; yield its URL."""
    from stormproof import providers  # noqa: PLC0415

    service = service_of(provider)
    if service not in providers.SERVICES:
        raise ValueError(
            f"{provider!r} is not a reference provider ({', '.join(providers.SERVICES)}); "
            "pass base_url to verify a provider that is already running"
        )
    with providers.serve(service, test_mode=True) as server:
        yield server.url


def verify_provider(
    provider: str, pact_files: Sequence[Path], *, base_url: str | None = None
) -> VerificationResult:
    """Verify one provider against pact files.

    When ``base_url`` is None, the reference provider (``users-service`` -> ``users``) is started
    in test mode on a free 127.0.0.1 port for the duration. Before anything is replayed, every
    provider state named in the pacts is checked against the reference provider's handlers
    (pact's verifier would otherwise retry each unknown state for about two minutes). States are
    set up and torn down with ``POST {base_url}/_test/states``.

    Args:
        provider: Provider name as written in the pacts (``users-service``).
        pact_files: Pact files; those written for another provider are ignored.
        base_url: A running provider in test mode to verify instead (no state check when it is
            not one of the reference providers).

    Returns:
        The result: ``passed`` is False when any non-pending interaction failed, when a state
        has no handler, or when no interaction was verified at all.

    Raises:
        ValueError: No ``base_url`` and the provider is not a reference provider, or a pact file
            cannot be read.
    """
    documents = [(path, read_pact(path)) for path in pact_files]
    mine = [(p, d) for p, d in documents if d["provider"]["name"] == provider]
    if not mine:
        given = ", ".join(str(p) for p in pact_files) or "none"
        problem = f"no pact file is for provider {provider!r} (files given: {given})"
        return VerificationResult(provider=provider, passed=False, problems=(problem,))
    missing = missing_handlers(provider, provider_states([d for _, d in mine]))
    if missing:
        problem = missing_states_problem(provider, missing)
        return VerificationResult(provider=provider, passed=False, problems=(problem,))
    serving: AbstractContextManager[str] = (
        nullcontext(base_url) if base_url is not None else served(provider)
    )
    with serving as url:
        verifier = new_verifier(provider, url)
        for path, _ in mine:
            verifier.add_source(path)
        return run_verifier(verifier, provider, url)
