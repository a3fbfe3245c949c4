"""Constants the pytest plugin and the CLI need before anything heavy is imported."""

from __future__ import annotations

from typing import Literal, get_args

#: File suffixes of scenario files.
SCENARIO_SUFFIXES = (".yaml", ".yml")

#: Test-only ways to make the client worse, to prove the scenarios catch it.
Weakening = Literal[
    "no-retries",
    "no-breaker",
    "no-deadline",
    "no-window",
    "no-budget",
    "retry-unsafe",
    "new-key-per-retry",
]
WEAKENINGS: tuple[Weakening, ...] = get_args(Weakening)
