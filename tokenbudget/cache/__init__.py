"""The response cache: identical LLM calls are answered from stored bytes, for free.

::

    tracker = TokenTracker(cache="disk", cache_ttl=24 * 3600)
    client = openai.OpenAI(http_client=tracker.httpx_client())
    client.chat.completions.create(...)  # sent, answer stored
    client.chat.completions.create(...)  # same request: replayed, cost 0, saved recorded
    tracker.cache_stats  # CacheStats(hits=1, misses=1, ...)

The cache sits in the tracking transport: it stores the provider's decoded
response bytes (a whole SSE stream for streamed calls) and replays them
through the real SDK, so a hit gets the same response object as the call that
filled it. Pieces, from the bottom:

- :class:`CacheKeyer` (``_key``): which requests share an answer; sans-IO. Every
  credential-bearing header (``_credentials``) and the caller's ``vary_headers``
  part the key, hashed with the store's secret, never stored.
- :class:`CacheEntry` (``_entry``): what is stored; safe headers only, as the bytes
  received. Outside memory an entry is sealed with the store's secret and
  validated on read (``_validate``): a damaged one is a miss. A memory backend
  keeps each answer ready for its hits, made once when stored
  (``StoredResponse.events`` and ``.replay``, ``CallCache._ready``): a hit hands
  over the kept pieces and records the kept reading, parsing nothing again.
- :class:`CacheBackend` (``_backend``): the interface of a store; :class:`MemoryBackend`,
  :class:`DiskBackend`: where entries live (the disk's folders 0700, files 0600,
  made by ``tokenbudget._core``'s helpers that the stores use too); both survive
  ``fork`` (the memory backend renews its lock through ``tokenbudget._core``'s
  fork hooks; diskcache reconnects by itself).
- :class:`CallCache`: the policy the tracker consults (what is cached, TTL), with
  single flight (``_lookups`` over ``_flight``): identical misses at once make one
  call; :class:`CacheStats` (``_stats``): what it did.
- :func:`no_cache`, :func:`refresh_cache`: per-call controls (context managers).
- :class:`ResponseCache`: the interface a tracker's cache has (``lookup``/``store``),
  and :class:`StoredResponse`, the answer it keeps: ``TokenTracker(cache=...)``
  takes any object with that interface.
"""

from __future__ import annotations

from .._core import ResponseCache, StoredResponse
from ._backend import CacheBackend
from ._cache import CallCache
from ._control import CacheMode, cache_mode, no_cache, refresh_cache
from ._disk import DiskBackend, default_cache_dir
from ._entry import SAFE_HEADERS, CacheEntry, safe_headers
from ._key import ACCOUNT_HEADERS, CREDENTIAL_HEADERS, CREDENTIAL_QUERY, VARY_HEADERS, CacheKeyer
from ._memory import MemoryBackend
from ._setup import CacheOption, build_cache, cache_stats
from ._stats import CacheStats

__all__ = [
    "ACCOUNT_HEADERS",
    "CREDENTIAL_HEADERS",
    "CREDENTIAL_QUERY",
    "SAFE_HEADERS",
    "VARY_HEADERS",
    "CacheBackend",
    "CacheEntry",
    "CacheKeyer",
    "CacheMode",
    "CacheOption",
    "CacheStats",
    "CallCache",
    "DiskBackend",
    "MemoryBackend",
    "ResponseCache",
    "StoredResponse",
    "build_cache",
    "cache_mode",
    "cache_stats",
    "default_cache_dir",
    "no_cache",
    "refresh_cache",
    "safe_headers",
]
