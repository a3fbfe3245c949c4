"""Keep secrets out of logs and messages: the ``stormproof.clients`` logger and its filter.

Messages are built without secrets in the first place; this module is the second line: it
scrubs bearer tokens, ``Authorization`` values, card-like digit runs, CVVs and payment method
tokens from any text, and known secret values (a client's token) wherever they appear.

The known secrets are those of the live clients: a client's token is forgotten when it is
closed (or collected), so redaction cost is bounded by the clients in use, not by every client
ever made. While any client is live, the loggers of the libraries underneath (``urllib3``,
``requests``) carry the same filter.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable

__all__ = [
    "LIBRARY_LOGGERS",
    "LOGGER_NAME",
    "REDACTED",
    "RedactingFilter",
    "known_secrets",
    "logger",
    "redact",
    "track_client",
]

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

LIBRARY_LOGGERS = (
    "requests",
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)
"""Loggers of the libraries underneath; a logger's filters do not apply to its children's
records, so each one that logs gets the filter."""

_secrets_lock = threading.Lock()
_holders: Counter[str] = Counter()  # secret -> live clients holding it
_secrets: tuple[str, ...] = ()  # the keys of _holders, read without the lock
_live_clients = 0


def known_secrets() -> tuple[str, ...]:
    """Return the secret values scrubbed from every record now (the live clients' tokens)."""
    return _secrets


def track_client(secret: str | None) -> Callable[[], None]:
    """Count a live client and scrub its ``secret`` until the returned release is called.

    Args:
        secret: The client's bearer token, if any; values shorter than 4 characters are not
            scrubbed verbatim because that would mangle ordinary text.

    Returns:
        The release: forgets the secret once no live client holds it, and takes the filter off
        the library loggers once no client is live. Calling it again does nothing.
    """
    global _secrets, _live_clients  # noqa: PLW0603 - the registry is process-wide by nature
    kept = secret if secret is not None and len(secret) >= 4 else None
    with _secrets_lock:
        if kept is not None:
            _holders[kept] += 1
            _secrets = tuple(_holders)
        _live_clients += 1
        if _live_clients == 1:
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).addFilter(_library_filter)
    released = False

    def release() -> None:
        global _secrets, _live_clients  # noqa: PLW0603
        nonlocal released
        with _secrets_lock:
            if released:
                return
            released = True
            if kept is not None:
                _holders[kept] -= 1
                if _holders[kept] <= 0:
                    del _holders[kept]
                _secrets = tuple(_holders)
            _live_clients -= 1
            if _live_clients == 0:
                for name in LIBRARY_LOGGERS:
                    logging.getLogger(name).removeFilter(_library_filter)

    return release


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with secrets replaced by ``[REDACTED]``.

    Args:
        text: Any text (a log message, a service's error message).
        extra_secrets: Secret values of the current call, scrubbed verbatim.

    Returns:
        The scrubbed text.
    """
    for secret in (*_secrets, *extra_secrets):  # _secrets: an immutable snapshot
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

_library_filter = RedactingFilter()

logger = logging.getLogger(LOGGER_NAME)
logger.addFilter(RedactingFilter())
logger.addHandler(logging.NullHandler())  # a library: no "last resort" output to stderr
