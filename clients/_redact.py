"""Keep secrets out of logs and messages: the ``stormproof.clients`` logger and its filter.

Messages are built without secrets in the first place; this module is the second line: it
scrubs bearer tokens, ``Authorization`` values, card-like digit runs, CVVs and payment method
tokens from any text, and known secret values (a client's token) wherever they appear.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

__all__ = ["LOGGER_NAME", "REDACTED", "RedactingFilter", "logger", "redact"]

LOGGER_NAME = "stormproof.clients"
REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic)\s+)?[^'\",}\s]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (
        re.compile(
            r"(?i)((?:payment_method_token|card_number|cvv|cvc|token|password|secret)"
            r"['\"]?\s*[:=]\s*['\"]?)[^'\",}\s]+"
        ),
        rf"\1{REDACTED}",
    ),
    # 13-19 digits, optionally grouped by spaces or dashes: a card number (not part of an id).
    (re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])"), REDACTED),
)

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Scrub ``value`` from every record of the clients' logger from now on.

    Args:
        value: A secret (a client's bearer token); values shorter than 4 characters are ignored
            because scrubbing them would mangle ordinary text.
    """
    if len(value) >= 4:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with secrets replaced by ``[REDACTED]``.

    Args:
        text: Any text (a log message, a service's error message).
        extra_secrets: Secret values of the current call, scrubbed verbatim.

    Returns:
        The scrubbed text.
    """
    for secret in (*_secrets, *extra_secrets):
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Scrub secrets from a record's message and its string ``extra`` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it.

        Args:
            record: The record to scrub.

        Returns:
            Always True.
        """
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = redact(value)
        return True


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}

logger = logging.getLogger(LOGGER_NAME)
logger.addFilter(RedactingFilter())
logger.addHandler(logging.NullHandler())  # a library: no "last resort" output to stderr
