"""A `RunObserver` that writes steps, judgements and attachments into the current Allure test."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, suppress

import allure

from stormproof.chaos.pact import VerificationResult
from stormproof.chaos.runner import Finding, Witness
from stormproof.chaos.scenario import Scenario


class JudgementFailedError(AssertionError):
    """Raised inside an Allure step so the step shows as failed; caught right away."""


class AllureObserver:
    """Mirror a scenario run into Allure (a no-op when allure-pytest is not recording)."""

    def step(self, title: str) -> AbstractContextManager[None]:
        """An Allure step."""
        return allure.step(title)

    def judged(self, title: str, findings: Sequence[Finding]) -> None:
        """A step per judgement, failed when something differed."""
        with suppress(JudgementFailedError), allure.step(title):
            if findings:
                raise JudgementFailedError(
                    "; ".join(f"{f.category}: {f.message}" for f in findings)
                )

    def witnessed(self, witnesses: Sequence[Witness]) -> None:
        """A step per fault with its evidence, failed when the fault never fired."""
        with allure.step("Fault evidence"):
            for witness in witnesses:
                title = f"{witness.fault}: {witness.evidence} ({witness.strength})"
                with suppress(JudgementFailedError), allure.step(title):
                    if not witness.fired:
                        raise JudgementFailedError(f"the fault never fired: {witness.evidence}")

    def attach(self, name: str, content: str | bytes, mime_type: str) -> None:
        """An Allure attachment."""
        extension = name.rsplit(".", 1)[-1]
        allure.attach(
            content,
            name=name,
            attachment_type=mime_type,
            extension=extension,
        )


def label_scenario(scenario: Scenario, seed: int, proxy_url: str | None = None) -> None:
    """Label the current Allure test: epic = service, feature = faults, story = scenario.

    The seed and the proxy address are parameters marked excluded: they vary between runs, and
    Allure would otherwise treat each run as a new test and lose the history.
    """
    # allure-pytest ships no type hints for its dynamic labels.
    allure.dynamic.epic(scenario.service)  # type: ignore[no-untyped-call]
    allure.dynamic.feature(", ".join(scenario.fault_kinds))  # type: ignore[no-untyped-call]
    allure.dynamic.story(scenario.name)  # type: ignore[no-untyped-call]
    allure.dynamic.severity(scenario.effective_severity)  # type: ignore[no-untyped-call]
    allure.dynamic.description(scenario.description)  # type: ignore[no-untyped-call]
    allure.dynamic.tag(*scenario.tags)  # type: ignore[no-untyped-call]
    allure.dynamic.parameter("seed", seed, excluded=True)
    if proxy_url is not None:
        allure.dynamic.parameter("proxy", proxy_url, excluded=True)


def label_contract(provider: str, pact_file: str) -> None:
    """Label the current Allure test as the verification of `provider` against `pact_file`."""
    allure.dynamic.epic("contracts")  # type: ignore[no-untyped-call]
    allure.dynamic.feature(provider)  # type: ignore[no-untyped-call]
    allure.dynamic.story(f"provider verification: {pact_file}")  # type: ignore[no-untyped-call]
    allure.dynamic.severity("critical")  # type: ignore[no-untyped-call]


def record_verification(result: VerificationResult) -> None:
    """One Allure step per verified interaction (failed ones show their mismatches)."""
    for interaction in result.interactions:
        title = (
            f"{interaction.description} ({', '.join(interaction.provider_states) or 'no state'})"
        )
        with suppress(JudgementFailedError), allure.step(title):
            if not interaction.passed and not interaction.pending:
                raise JudgementFailedError("; ".join(interaction.mismatches) or "failed")
    for problem in result.problems:
        with suppress(JudgementFailedError), allure.step("verification problem"):
            raise JudgementFailedError(problem)
    allure.attach(result.output or "(no output)", name="verifier output", extension="txt")
