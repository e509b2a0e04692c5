"""Market data written to the cache after each commit, newest ``book_seq`` wins.

Two processes may commit out of order; a snapshot is written only if its seq is
newer than the one the cache holds, so a late writer never overwrites a newer one.
On Redis the compare-and-set is one Lua script; on the local-memory cache a process
lock does the same job. Redis being down is degraded service: writes are skipped
(and not retried for a moment, so that a dead Redis does not slow every order) and
readers fall back to the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from exchange.metrics import CACHE_REQUESTS
from trading.specs import SymbolSpec

logger = logging.getLogger(__name__)

DEPTH_LEVELS = 100
RETRY_AFTER_FAILURE_SECONDS = 2.0

_local_guard = threading.Lock()
_down_until = [0.0]

# KEYS[1] = the key; ARGV[1] = seq; ARGV[2] = the JSON value.
_SET_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'seq')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'value', ARGV[2])
return 1
"""


def _redis():
    """The raw Redis connection, or None on the local-memory cache or while Redis
    is considered down."""
    if not settings.REDIS_URL or time.monotonic() < _down_until[0]:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def _failed(what: str) -> None:
    _down_until[0] = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
    logger.warning(
        "market-data cache unavailable (%s); serving from the database", what
    )


def _key(kind: str, symbol: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:md:{kind}:{symbol}"


def store_if_newer(kind: str, symbol: str, seq: int, value: dict) -> bool:
    """Write ``value`` under (kind, symbol) unless a newer seq is already there."""
    key = _key(kind, symbol)
    if settings.REDIS_URL:
        client = _redis()
        if client is None:
            return False
        try:
            return bool(client.eval(_SET_IF_NEWER, 1, key, seq, json.dumps(value)))
        except Exception:  # noqa: BLE001 - Redis down is degraded service
            _failed("write")
            return False
    with _local_guard:
        current = cache.get(key)
        if current is not None and current[0] >= seq:
            return False
        cache.set(key, (seq, value), timeout=None)
        return True


def load(kind: str, symbol: str) -> tuple[int, dict] | None:
    """(seq, value) from the cache, or None on a miss or with the cache down."""
    key = _key(kind, symbol)
    found = None
    if settings.REDIS_URL:
        client = _redis()
        if client is not None:
            try:
                seq, raw = client.hmget(key, ["seq", "value"])
                if raw is not None:
                    found = (int(seq), json.loads(raw))
            except Exception:  # noqa: BLE001 - Redis down is degraded service
                _failed("read")
    else:
        found = cache.get(key)
    CACHE_REQUESTS.labels("hit" if found is not None else "miss").inc()
    return found


def forget(kind: str, symbol: str) -> None:
    key = _key(kind, symbol)
    if settings.REDIS_URL:
        client = _redis()
        if client is not None:
            try:
                client.delete(key)
            except Exception:  # noqa: BLE001 - Redis down is degraded service
                _failed("delete")
    else:
        cache.delete(key)


def publish_on_commit(*, symbol: str, seq: int, book, spec: SymbolSpec, trades) -> None:
    """Capture the book's top levels now (the caller holds the pair lock) and write
    them once the transaction commits."""
    bids, asks = book.depth(DEPTH_LEVELS)
    snapshot = {"bids": bids, "asks": asks}
    transaction.on_commit(lambda: store_if_newer("depth", symbol, seq, snapshot))
