"""Shared budgets and usage counters in Redis, for many processes and machines.

Needs the ``redis`` client (``pip install "tokenbudget[redis]"``); nothing
here is imported until a shared budget or a ``redis://`` store is used: this
package registers its URL schemes with ``tokenbudget.budgets`` and
``tokenbudget.store`` when it is imported, and those import it on first use.

>>> budget(max_cost_usd=200, per="day", key="team-a:gpt5",
...        backend="redis://redis.internal:6379/0")           # doctest: +SKIP
>>> TokenTracker(store="redis://redis.internal:6379/0")         # doctest: +SKIP

Layout::

    RedisBackend     a BudgetBackend: reserve / settle / read as Lua scripts (_backend, _account)
      Server         one client, its scripts, and whether Redis answers (_server)
      LocalView      what this process saw last and has not sent yet; Outbox (_local)
    RedisStore       a UsageStore: integer counters per UTC day, provider/model, tag (_store)
      CounterWrites  each batch in one Lua script, exactly once (_store_writes)
      CounterReads   the days a query touches, summed (_store_reads)
      layout         the keys and hash fields of the counters (_store_layout)
    _lua             the scripts, the keys they use, and why Lua rather than WATCH
    _money           Decimal dollars as exact integers
    _client          clients with bounded waits; asyncio clients

Waits are bounded: clients built from a URL time out after 0.5 s (connect
and read) and retry once only on a broken connection; after a failure Redis is
left alone for a second. The budget layer is synchronous (it runs inside the
transport, also under async clients), so an async client is replaced by a sync
twin on the same server: an admission costs an event loop one round trip
(about 0.1 ms on a local network), bounded by the timeout.
"""

from __future__ import annotations

from ._backend import OnBackendError, RedisBackend
from ._bind import register_schemes as _register_schemes
from ._store import RecordsUnavailable, RedisStore

__all__ = ["OnBackendError", "RecordsUnavailable", "RedisBackend", "RedisStore"]

# budget(backend="redis://...") and TokenTracker(store="redis://...") reach Redis
# through these registrations, like any other backend.
_register_schemes()
