"""The logging policy of tokenbudget's own failures: say it once, never raise it.

A failure inside tokenbudget (a parser bug, an odd body, a pricing error) must
never break the user's call, and must not flood the log either: each kind of
failure is logged once per process, with its traceback; every later one of the
same kind goes to DEBUG. Every line the ``tokenbudget`` logger writes, message and
traceback, goes through :func:`scrub_secrets` first: an exception's text may be
anyone's (a URL with its query key, an ``Authorization`` header).
"""

from __future__ import annotations

import logging

from ._scrub import scrub_secrets

__all__ = ["logger", "warn_once"]

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
