"""The logging policy of tokenbudget's own failures: say it once, never raise it.

A failure inside tokenbudget (a parser bug, an odd body, a pricing error) must
never break the user's call, and must not flood the log either: each kind of
failure is logged once per process, with its traceback; every later one of the
same kind goes to DEBUG.
"""

from __future__ import annotations

import logging

__all__ = ["logger", "warn_once"]

#: The logger every tokenbudget module writes to.
logger = logging.getLogger("tokenbudget")

_warned: set[str] = set()


def warn_once(key: str, message: str, *args: object, exc_info: bool = False) -> bool:
    """Log a warning the first time ``key`` is seen in this process; True if it was logged."""
    if key in _warned:
        return False
    _warned.add(key)
    logger.warning(message, *args, exc_info=exc_info)
    return True
