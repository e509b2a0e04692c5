"""The one Redis client of the exchange, behind a circuit breaker.

Redis is a cache here: market data, rate-limit counters, key look-ups. When it
fails, callers skip it for a moment (the breaker is open) and serve from the
database or without the limit, so a dead Redis neither slows every request nor
turns into errors. Only Redis's own failures open the breaker: a programming error
raises as usual and is not mistaken for an outage.
"""

from __future__ import annotations

import functools
import logging
import os
import select
import threading
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django_redis import get_redis_connection
from redis.connection import ConnectionPool
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What an unreachable or failing Redis raises through redis-py.
REDIS_DOWN = (RedisError, ConnectionError, TimeoutError, OSError)
RETRY_AFTER_FAILURE_SECONDS = 2.0

_down_until = [0.0]


def redis_client():
    """The shared Redis connection, or None on the local-memory cache or while the
    breaker is open."""
    if not settings.REDIS_URL or breaker_open():
        return None
    return get_redis_connection("default")


def breaker_open() -> bool:
    return time.monotonic() < _down_until[0]


def redis_failed(what: str) -> None:
    """Open the breaker: Redis is skipped for a moment, logged once per window."""
    if not breaker_open():
        # One line per outage window, not a trace per call.
        logger.warning("Redis unavailable (%s); serving from the database", what)
    _down_until[0] = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS


def breaker_reset() -> None:
    """Try Redis again at once (tests, and after an operator fixed it)."""
    _down_until[0] = 0.0


def commands_send(client, commands: list[tuple]) -> list:
    """Send ``commands`` in one round trip; their replies, raw (an INCRBY's
    integer, an EXPIRE's 0 or 1, an HMGET's list of bytes).

    What redis-py's non-transactional pipeline does, without building a Pipeline
    and its retry and callback machinery for every call (docs/performance.md),
    and on this thread's own connection (:func:`_connection`) rather than one
    checked out of the pool and back: the pool's bookkeeping cost each command
    about 17 us of CPU, a third of the command. A connection that failed midway
    is dropped, never used again with replies pending.
    """
    connection, own = _connection(client)
    if own and _stale(connection):
        connection.disconnect()  # the next send connects again
    try:
        connection.send_packed_command(connection.pack_commands(commands))
        return [connection.read_response() for _ in commands]
    except BaseException:
        connection.disconnect()
        if own:
            _held.__dict__.clear()
        raise
    finally:
        if not own:
            client.connection_pool.release(connection)


def _stale(connection) -> bool:
    """Whether an idle connection has something to read (a stray reply, or the
    end of a connection the server closed, as after a restart): then it is not
    used as it is, as the pool checks before it hands a connection out. One
    poll of the socket (redis-py's own check, ``can_read``, costs five system
    calls); a connection not yet made is not stale."""
    sock = getattr(connection, "_sock", None)
    if sock is None:
        return False
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))


_held = threading.local()


def _connection(client) -> tuple[Any, bool]:
    """This thread's own connection to ``client``'s server, made as ``client``'s
    pool makes its connections, and whether it is one (True) or a connection
    checked out of a pool that is not a plain :class:`ConnectionPool` (False:
    Sentinel's and others decide themselves where a connection goes). It lives
    as long as the thread, and is made again in a new process or for another
    pool."""
    pool = client.connection_pool
    if type(pool) is not ConnectionPool or pool.cache is not None:
        return pool.get_connection(), False
    held = _held.__dict__
    if held.get("pool") is not pool or held.get("pid") != os.getpid():
        held.clear()
        held.update(
            connection=pool.connection_class(**pool.connection_kwargs),
            pool=pool,
            pid=os.getpid(),
        )
    return held["connection"], True


def cache_key(key: str) -> str:
    """``key`` as the cache API names it: on Redis, the full key the default
    cache reads and writes (its prefix and version), so that a command sent
    directly meets the cache's own entries; elsewhere ``key`` itself."""
    if not settings.REDIS_URL:
        return key
    return _make_key()(key)


@functools.cache
def _make_key():
    # Through django.core.cache.cache, every key resolved the proxy and then
    # this thread's cache object; how a key is made depends only on settings.
    return caches["default"].make_key


def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting in ("CACHES", "REDIS_URL"):
        _make_key.cache_clear()


setting_changed.connect(_settings_changed)
