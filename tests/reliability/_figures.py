"""A process-wide tally the reliability tests add to and the conftest prints."""

from __future__ import annotations

from collections import Counter, defaultdict

FIGURES: defaultdict[str, Counter[str]] = defaultdict(Counter)


def count(section: str, key: str, amount: int = 1) -> None:
    """Add ``amount`` to ``key`` of ``section``."""
    FIGURES[section][key] += amount
