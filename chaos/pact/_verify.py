"""Verifying a provider against pact files, with provider states set through ``/_test/states``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from stormproof.chaos.pact._env import ensure_do_not_track
from stormproof.chaos.pact._files import provider_states, read_pact
from stormproof.chaos.pact._result import VerificationResult, parse_verifier_results
from stormproof.chaos.services import (
    ProjectConfig,
    ProviderAdapter,
    active_config,
    close_adapter,
    launch_provider,
)

if TYPE_CHECKING:
    from pact import Verifier

__all__ = ["verify_provider"]

_STATE_FAILED = "state change handlers has failed"  # the verifier's words, sic


@contextmanager
def provider_under_test(
    provider: str, *, base_url: str | None = None, config: ProjectConfig | None = None
) -> Iterator[tuple[str, ProviderAdapter]]:
    """The declared service behind a pact provider name: its URL (started for the duration when
    `base_url` is None) and its provider adapter.

    Raises:
        ValueError: no declared service has this pact provider name.
    """
    config = config if config is not None else active_config()
    declaration = config.by_pact_provider(provider)
    if declaration is None:
        declared = ", ".join(
            f"{d.name} ({d.pact_provider})" for d in config.services.values() if d.pact_provider
        )
        raise ValueError(
            f"no service in {config.source} declares pact_provider {provider!r} "
            f"(declared: {declared or 'none'})"
        )
    with ExitStack() as stack:
        url = base_url.rstrip("/") if base_url is not None else launch_provider(stack, declaration)
        adapter = declaration.build_adapter(url)
        stack.callback(close_adapter, adapter)
        yield url, adapter


def missing_states_problem(provider: str, adapter: ProviderAdapter, missing: Sequence[str]) -> str:
    """The message for states without a handler (the verifier would stall on each of them)."""
    listed = ", ".join(repr(state) for state in missing)
    known = "; ".join(adapter.state_names()) or "none"
    return (
        f"{len(missing)} provider state(s) in the pacts have no handler in {provider}: {listed}. "
        f"Known states: {known}. Nothing was verified."
    )


def new_verifier(
    provider: str, base_url: str, adapter: ProviderAdapter, state_errors: list[str] | None = None
) -> Verifier:
    """A verifier that replays against ``base_url`` and sets states through ``adapter``.

    A state the adapter fails to set is recorded in ``state_errors``, not raised: pact's verifier
    would retry a failed state change with back-off for minutes per interaction.
    """
    ensure_do_not_track()
    from pact import Verifier  # noqa: PLC0415 - loads the Rust FFI

    def change_state(
        state: str, action: Literal["setup", "teardown"], parameters: dict[str, Any] | None
    ) -> None:
        try:
            if action == "teardown":
                # Back to empty: interactions never see each other's data.
                adapter.reset()
            elif state:
                adapter.set_state(state, parameters or {})
        except Exception as exc:  # the adapter's failure, whatever it is, is reported
            if state_errors is not None:
                state_errors.append(f"{action} of {state!r}: {exc}")

    url = base_url.rstrip("/")
    verifier = Verifier(provider, host=urlsplit(url).hostname).add_transport(url=url)
    verifier.set_coloured_output(enabled=False)
    verifier.state_handler(change_state, teardown=True)
    return verifier


def run_verifier(
    verifier: Verifier,
    provider: str,
    base_url: str,
    problems: Sequence[str] = (),
    state_errors: Sequence[str] = (),
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
    finally:
        # pact-python 4.2 shuts its state-callback server down but never closes its listening
        # socket (a ResourceWarning later): close it here.
        callback = getattr(verifier, "_state_handler", None)
        server = getattr(callback, "_server", None)
        if server is not None:
            server.server_close()
    raw: dict[str, Any] = verifier.results
    interactions = parse_verifier_results(raw)
    if not interactions:
        found.append("no interaction was verified (empty pacts or none for this provider)")
    failed = any(not i.passed and not i.pending for i in interactions)
    if state_errors or any(_STATE_FAILED in m for i in interactions for m in i.mismatches):
        first = f": {state_errors[0]}" if state_errors else ""
        found.append(
            f"provider states could not be set up for {base_url} through the provider's "
            f"adapter{first} (is the provider running in test mode? are the state's parameters "
            "valid?)"
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


def verify_provider(
    provider: str,
    pact_files: Sequence[Path],
    *,
    base_url: str | None = None,
    config: ProjectConfig | None = None,
) -> VerificationResult:
    """Verify one provider against pact files.

    The provider is the declared service whose ``pact_provider`` is ``provider``; when
    ``base_url`` is None it is started on 127.0.0.1 for the duration (its ``app`` or ``command``).
    Before anything is replayed, every provider state named in the pacts is checked against the
    service's provider adapter (pact's verifier would otherwise retry each unknown state for about
    two minutes); the adapter then sets each state up, and resets the provider after each
    interaction.

    Args:
        provider: Provider name as written in the pacts (``users-service``).
        pact_files: Pact files; those written for another provider are ignored.
        base_url: A running provider to verify instead of starting one.
        config: The project whose services to look in (the active configuration when None).

    Returns:
        The result: ``passed`` is False when any non-pending interaction failed, when a state
        has no handler, or when no interaction was verified at all.

    Raises:
        ValueError: No declared service has this pact provider name, or a pact file cannot be
            read.
    """
    documents = [(path, read_pact(path)) for path in pact_files]
    mine = [(p, d) for p, d in documents if d["provider"]["name"] == provider]
    if not mine:
        given = ", ".join(str(p) for p in pact_files) or "none"
        problem = f"no pact file is for provider {provider!r} (files given: {given})"
        return VerificationResult(provider=provider, passed=False, problems=(problem,))
    with provider_under_test(provider, base_url=base_url, config=config) as (url, adapter):
        missing = adapter.unknown_states(provider_states([d for _, d in mine]))
        if missing:
            problem = missing_states_problem(provider, adapter, missing)
            return VerificationResult(provider=provider, passed=False, problems=(problem,))
        state_errors: list[str] = []
        verifier = new_verifier(provider, url, adapter, state_errors)
        for path, _ in mine:
            verifier.add_source(path)
        return run_verifier(verifier, provider, url, state_errors=state_errors)
