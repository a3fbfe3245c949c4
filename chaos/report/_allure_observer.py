"""A `RunObserver` that writes steps, judgements and attachments into the current Allure test."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import allure

from stormproof.chaos.pact import VerificationResult
from stormproof.chaos.runner import Finding, Witness
from stormproof.chaos.scenario import Scenario


class JudgementFailedError(AssertionError):
    """What a failed Allure step says (the step is closed with it, never raised)."""


def _failed_step(title: str, message: str) -> None:
    """A failed Allure step that shows `message` and no traceback: a traceback would show only
    the harness's own files, where it closed the step."""
    step = allure.step(title)
    step.__enter__()  # type: ignore[no-untyped-call]
    step.__exit__(JudgementFailedError, JudgementFailedError(message), None)  # type: ignore[no-untyped-call]


def show_failure_once(config: Any, message: str, details: str) -> None:
    """Make the current Allure test say `message` (its failure category leads) and `details` (the
    other findings) instead of allure-pytest's exception line and a report that repeats it.

    Args:
        config: The pytest config (allure-pytest's listener is one of its plugins).
        message: The summary the categories match: the primary finding.
        details: Everything else, each finding once; may be empty.
    """
    listener = config.pluginmanager.getplugin("allure_listener")
    if listener is None:  # not recording
        return
    test = listener.allure_logger.get_test(None)
    if test is None or test.statusDetails is None:
        return
    test.statusDetails.message = message
    test.statusDetails.trace = details or None


class AllureObserver:
    """Mirror a scenario run into Allure (a no-op when allure-pytest is not recording)."""

    def step(self, title: str) -> AbstractContextManager[None]:
        """An Allure step."""
        return allure.step(title)

    def judged(self, title: str, findings: Sequence[Finding]) -> None:
        """A step per judgement, failed when something differed."""
        if findings:
            _failed_step(title, "; ".join(f"{f.category}: {f.message}" for f in findings))
        else:
            with allure.step(title):
                pass

    def witnessed(self, witnesses: Sequence[Witness]) -> None:
        """A step per fault with its evidence, failed when the fault never fired (and so is the
        step that holds them)."""
        evidence = allure.step("Fault evidence")
        evidence.__enter__()  # type: ignore[no-untyped-call]
        for witness in witnesses:
            title = f"{witness.fault}: {witness.evidence} ({witness.strength})"
            if witness.fired:
                with allure.step(title):
                    pass
            else:
                _failed_step(title, f"the fault never fired: {witness.evidence}")
        unfired = sum(1 for witness in witnesses if not witness.fired)
        if unfired:
            failed = JudgementFailedError(f"{unfired} of {len(witnesses)} fault(s) never fired")
            evidence.__exit__(JudgementFailedError, failed, None)  # type: ignore[no-untyped-call]
        else:
            evidence.__exit__(None, None, None)  # type: ignore[no-untyped-call]

    def attach(self, name: str, content: str | bytes, mime_type: str) -> None:
        """An Allure attachment."""
        extension = name.rsplit(".", 1)[-1]
        allure.attach(
            content,
            name=name,
            attachment_type=mime_type,
            extension=extension,
        )


def attach_scenario_file(path: Path, text: str | None = None) -> None:
    """Attach the scenario's YAML file, as written (or `text`, a derived case's), to the current
    Allure test."""
    body = path.read_text(encoding="utf-8") if text is None else text
    allure.attach(body, name=path.name, attachment_type="text/yaml", extension="yaml")


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
        if not interaction.passed and not interaction.pending:
            _failed_step(title, "; ".join(interaction.mismatches) or "failed")
        else:
            with allure.step(title):
                pass
    for problem in result.problems:
        _failed_step("verification problem", problem)
    allure.attach(result.output or "(no output)", name="verifier output", extension="txt")
