"""The logging policy of tokenbudget's own failures: say it once, never raise it.

A failure inside tokenbudget (a parser bug, an odd body, a pricing error) must
never break the user's call, and must not flood the log either: each kind of
failure is logged once per process, with its traceback; every later one of the
same kind goes to DEBUG. Every line the ``tokenbudget`` logger writes, message and
traceback, goes through :func:`scrub_secrets` first: an exception's text may be
anyone's (a URL with its query key, an ``Authorization`` header).

At DEBUG, :func:`log_call` writes one line per recorded call, from the record
alone (which holds no key, header, prompt or reply): provider, model, endpoint,
status, tokens, cost, latency, cache hit. Callers check
``logger.isEnabledFor(logging.DEBUG)`` first, so with DEBUG off a call pays
for that check only.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ._scrub import scrub_secrets

if TYPE_CHECKING:
    from .._data import CallRecord

__all__ = ["log_call", "logger", "warn_once"]

#: The logger every tokenbudget module writes to.
logger = logging.getLogger("tokenbudget")


class _WithoutSecrets(logging.Filter):
    """Scrubs a record's message and traceback before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_secrets(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        if record.exc_info:
            # Formatters print ``exc_text`` when set; the exception object itself
            # (its message unscrubbed) is not handed on.
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub_secrets(record.exc_text)
        return True


logger.addFilter(_WithoutSecrets())

_warned: set[str] = set()


def warn_once(key: str, message: str, *args: object, exc_info: bool = False) -> bool:
    """Log a warning the first time ``key`` is seen in this process; True if it was logged."""
    if key in _warned:
        return False
    _warned.add(key)
    logger.warning(message, *args, exc_info=exc_info)
    return True


def log_call(record: CallRecord) -> None:
    """The DEBUG line of one recorded call (``key=value`` pairs, one line)."""
    cost = record.cost_usd
    latency = record.latency_ms
    logger.debug(
        "call provider=%s model=%s endpoint=%s status=%s input=%d output=%d "
        "cost_usd=%s latency_ms=%s cache_hit=%s estimated=%s stream=%s",
        record.provider,
        record.model or "-",
        record.endpoint,
        record.status_code if record.status_code is not None else "-",
        record.usage.input_tokens,
        record.usage.output_tokens,
        "unpriced" if cost is None else format(cost, "f"),
        "-" if latency is None else f"{latency:.1f}",
        record.cached,
        record.usage.estimated,
        record.stream,
    )
