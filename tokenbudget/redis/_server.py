"""One Redis server as the budget backends see it: a client, its scripts, and its health.

After a failure the server is left alone for ``retry_after`` seconds: budget
operations then go straight to their fallback (refuse, or the local account)
instead of each waiting for a timeout, and the first operation after the pause
tries Redis again. Several budget keys on one server share one ``Server``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from .._core import renew_after_fork
from ._client import label
from ._lua import READ, RESERVE, SETTLE

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["Server"]

logger = logging.getLogger("tokenbudget")


class Server:
    """A client, the budget scripts registered on it, and whether Redis is answering."""

    def __init__(self, client: Redis, url: str | None = None, *, retry_after: float = 1.0) -> None:
        self.client = client
        self.url = url or label(client)
        self.retry_after = retry_after
        self.reserve = client.register_script(RESERVE)
        self.settle = client.register_script(SETTLE)
        self.read = client.register_script(READ)
        self._lock = threading.Lock()
        self._down_until = 0.0
        #: The last failure, or ``None`` while Redis answers.
        self.error: str | None = None
        renew_after_fork(self, "_lock", threading.Lock)  # redis-py reconnects by itself

    def usable(self) -> bool:
        """False for ``retry_after`` seconds after a failure."""
        return time.monotonic() >= self._down_until

    def failed(self, error: Exception) -> bool:
        """Note a failure; True when it starts an outage (the first since Redis answered)."""
        with self._lock:
            self._down_until = time.monotonic() + self.retry_after
            first = self.error is None
            self.error = str(error) or type(error).__name__
            return first

    def answered(self) -> None:
        """Note a success (logged when it ends an outage)."""
        if self.error is None:
            return
        with self._lock:
            ended, self.error = self.error is not None, None
        if ended:
            logger.warning("tokenbudget: Redis at %s answers again", self.url)
