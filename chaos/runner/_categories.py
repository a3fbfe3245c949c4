"""Failure categories: the words a reviewer sees in the scorecard and in Allure.

Each category names what went wrong in the client's behaviour (or in the harness), in the same words
as the client's exception classes where one exists.
"""

from __future__ import annotations

WRONG_OUTCOME = "Wrong outcome"
DEADLINE_EXCEEDED = "Deadline exceeded"
DID_NOT_RETRY = "Did not retry"
TOO_MANY_ATTEMPTS = "Too many attempts"
RETRIED_NON_IDEMPOTENT = "Retried a non-idempotent call"
BREAKER_DID_NOT_OPEN = "Breaker did not open"
BREAKER_DID_NOT_CLOSE = "Breaker did not close"
WRONG_BREAKER_PATH = "Wrong breaker path"
NETWORK_WHILE_OPEN = "Network used while breaker open"
UNEXPECTED_TRAFFIC = "Unexpected provider traffic"
#: Where the categories a provider adapter declares (Duplicate charge, ...) rank.
SIDE_EFFECTS_RANK = "Provider side effects"
WRONG_TIMING = "Wrong timing"
LEFTOVER_FAULT = "Leftover fault"
HARNESS_ERROR = "Harness error"
#: The run was stopped (Ctrl-C) before this test ended: its outcome is unknown.
INTERRUPTED = "Interrupted"
#: Not a failure of the client, not a pass: a fault never fired, so the run proved nothing.
INCONCLUSIVE = "Inconclusive: a fault never fired"

#: Every category, in the order reports list them.
ALL_CATEGORIES: tuple[str, ...] = (
    BREAKER_DID_NOT_OPEN,
    BREAKER_DID_NOT_CLOSE,
    WRONG_BREAKER_PATH,
    NETWORK_WHILE_OPEN,
    DEADLINE_EXCEEDED,
    SIDE_EFFECTS_RANK,
    RETRIED_NON_IDEMPOTENT,
    DID_NOT_RETRY,
    TOO_MANY_ATTEMPTS,
    WRONG_OUTCOME,
    UNEXPECTED_TRAFFIC,
    WRONG_TIMING,
    LEFTOVER_FAULT,
    HARNESS_ERROR,
    INCONCLUSIVE,
    INTERRUPTED,
)
