"""Connecting to Redis with bounded waits, and telling Redis failures apart.

Every wait on Redis is bounded: clients built here have a 0.5 s connect and
read timeout by default and retry a command once, at once, only when the
connection broke (a pooled connection to a server that restarted), never after
a timeout. A command therefore gives up after at most about two timeouts, and
the callers (the budget backend, the store writer) stop asking for a while after
a failure, so a Redis that is down or hung slows a call down once, not every time.

A client passed in (``RedisBackend(client=...)``) is used with its own settings:
give it short ``socket_timeout`` / ``socket_connect_timeout`` values, since
redis-py's defaults (5 s and three retries with backoff) would hold a call
that long. An asyncio client (``redis.asyncio.Redis``) is accepted too: budget
decisions are made synchronously inside the transport (sync and async
alike), so tokenbudget opens a sync client to the same server with the same
address, database, credentials and TLS settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import RedisError
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        'Redis support needs the redis client: pip install "tokenbudget[redis]"'
    ) from exc

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "DEFAULT_TIMEOUT",
    "RedisError",
    "connect",
    "label",
    "refused",
    "safe_url",
    "split_prefix",
    "sync_client",
]

#: Seconds to connect, and to wait for a reply, on clients tokenbudget builds.
DEFAULT_TIMEOUT = 0.5

#: Connection settings that mean the same thing to the sync and the asyncio client.
_PORTABLE = ("host", "port", "db", "username", "password", "path", "client_name")


def _retry() -> Retry:
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


def connect(url: str, timeout: float = DEFAULT_TIMEOUT) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://``, ``unix://``) with bounded waits.

    Timeouts given in the URL (``?socket_timeout=2``) win over ``timeout``.
    """
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": _retry(),
        "health_check_interval": 0,
    }
    query = urlsplit(url).query
    for name in ("socket_timeout", "socket_connect_timeout"):
        if name + "=" in query:
            options.pop(name)
    return redis.Redis.from_url(url, **options)


def sync_client(client: Any) -> Redis:
    """``client`` itself, or for an asyncio client a sync one to the same server."""
    if isinstance(client, redis.Redis):
        return client
    pool = getattr(client, "connection_pool", None)
    if pool is None or not type(client).__module__.startswith("redis.asyncio"):
        raise TypeError(
            f"expected a redis.Redis or redis.asyncio.Redis client, not {type(client).__name__}"
        )
    settings = pool.connection_kwargs
    kwargs = {key: settings[key] for key in _PORTABLE if key in settings}
    kwargs.update({key: value for key, value in settings.items() if key.startswith("ssl_")})
    kind = {
        "SSLConnection": redis.SSLConnection,
        "UnixDomainSocketConnection": redis.UnixDomainSocketConnection,
    }.get(pool.connection_class.__name__, redis.Connection)
    timeout = settings.get("socket_timeout") or DEFAULT_TIMEOUT
    connect_timeout = settings.get("socket_connect_timeout") or timeout
    sync_pool = redis.ConnectionPool(
        connection_class=kind,
        socket_timeout=timeout,
        socket_connect_timeout=connect_timeout,
        retry=_retry(),
        **kwargs,
    )
    return redis.Redis(connection_pool=sync_pool)


def refused(error: Exception) -> bool:
    """Whether ``error`` is a tokenbudget script refusing its arguments (it wrote nothing)."""
    return isinstance(error, redis.ResponseError) and "tokenbudget: out of range" in str(error)


def label(client: Redis) -> str:
    """A URL naming ``client``'s server, without its password, for messages."""
    settings = client.connection_pool.connection_kwargs
    db = settings.get("db", 0)
    if "path" in settings:
        return f"unix://{settings['path']}?db={db}"
    scheme = "rediss" if client.connection_pool.connection_class is redis.SSLConnection else "redis"
    host = settings.get("host", "localhost")
    return f"{scheme}://{host}:{settings.get('port', 6379)}/{db}"


def safe_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def split_prefix(url: str, default: str = "tokenbudget") -> tuple[str, str]:
    """``url`` without its ``?prefix=NAME`` (tokenbudget's, not redis-py's), and the prefix."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    prefix = next((value for name, value in query if name == "prefix"), default)
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix
