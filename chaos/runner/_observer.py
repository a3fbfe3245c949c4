"""How a scenario run tells the outside world what it is doing (Allure steps, progress)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from stormproof.chaos.runner._records import Finding, Witness


class RunObserver(Protocol):
    """Receives the steps and attachments of a scenario run, e.g. to write an Allure report."""

    def step(self, title: str) -> AbstractContextManager[None]:
        """A named step; nested steps nest."""
        ...

    def judged(self, title: str, findings: Sequence[Finding]) -> None:
        """A judgement was made; `findings` is empty when it held."""
        ...

    def witnessed(self, witnesses: Sequence[Witness]) -> None:
        """The evidence that each fault of a phase fired (or did not)."""
        ...

    def attach(self, name: str, content: str | bytes, mime_type: str) -> None:
        """A file to keep with the run (JSON, PNG, HTML, text)."""
        ...


class NullObserver:
    """An observer that keeps nothing."""

    @contextmanager
    def _nothing(self) -> Iterator[None]:
        yield

    def step(self, title: str) -> AbstractContextManager[None]:
        """A step that records nothing."""
        return self._nothing()

    def judged(self, title: str, findings: Sequence[Finding]) -> None:
        """Ignore the judgement."""

    def witnessed(self, witnesses: Sequence[Witness]) -> None:
        """Ignore the evidence."""

    def attach(self, name: str, content: str | bytes, mime_type: str) -> None:
        """Ignore the attachment."""
