"""Market data written to the cache after each commit, newest ``book_seq`` wins.

Two processes may commit out of order; a snapshot is written only if its seq is
newer than the one the cache holds, so a late writer never overwrites a newer one.
On Redis the compare-and-set is one Lua script; on the local-memory cache a process
lock does the same job. Redis being down is degraded service: writes are skipped
(and not retried for a moment, so that a dead Redis does not slow every order) and
readers fall back to the database.
"""

from __future__ import annotations

import threading

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from exchange import bus
from exchange.metrics import CACHE_REQUESTS
from exchange.redis import (
    REDIS_DOWN,
    breaker_open,
    cache_key,
    commands_send,
    redis_client,
    redis_failed,
)
from trading.marketdata.shapes import trade_public
from trading.symbols.specs import SymbolSpec

DEPTH_LEVELS = 100

_local_guard = threading.Lock()
# Symbols whose market data this process failed to publish.
_unpublished: set[str] = set()

# KEYS[1] = the key; ARGV[1] = seq; ARGV[2] = the JSON value.
_SET_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'seq')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'value', ARGV[2])
return 1
"""


def _redis():
    """The Redis connection, or None on the local-memory cache or while Redis is
    considered down. The first call after an outage drops what this process
    could not publish during it, so readers get the database until the next
    publish instead of a stale snapshot."""
    client = redis_client()
    if client is not None and _unpublished:
        stale = sorted(_unpublished)
        _unpublished.clear()
        try:
            client.delete(
                *[_key(kind, s) for s in stale for kind in ("depth", "trades")]
            )
        except REDIS_DOWN:
            _unpublished.update(stale)
            redis_failed("heal")
            return None
    return client


def _key(kind: str, symbol: str) -> str:
    """The key as the cache API names it; on Redis, the same full key it uses."""
    return cache_key(f"md:{kind}:{symbol}")


def unpublished_forget() -> None:
    """Forget what this process failed to publish (tests)."""
    _unpublished.clear()


def _store_command(key: str, seq: int, value: dict) -> tuple:
    return ("EVAL", _SET_IF_NEWER, 1, key, seq, orjson.dumps(value))


def store_if_newer(kind: str, symbol: str, seq: int, value: dict) -> bool:
    """Write ``value`` under (kind, symbol) unless a newer seq is already there."""
    key = _key(kind, symbol)
    if settings.REDIS_URL:
        return _send([_store_command(key, seq, value)])[0]
    with _local_guard:
        current = cache.get(key)
        if current is not None and current[0] >= seq:
            return False
        cache.set(key, (seq, value), timeout=None)
        return True


def _send(commands: list[tuple]) -> list[bool]:
    """Run the scripts in one round trip; whether each wrote (all False with
    Redis down)."""
    client = _redis()
    if client is None:
        return [False] * len(commands)
    try:
        return [bool(reply) for reply in commands_send(client, commands)]
    except REDIS_DOWN:
        redis_failed("write")
        return [False] * len(commands)


def load(kind: str, symbol: str) -> tuple[int, dict] | None:
    """(seq, value) from the cache, or None on a miss or with the cache down."""
    key = _key(kind, symbol)
    found = None
    if settings.REDIS_URL:
        client = _redis()
        if client is not None:
            try:
                ((seq, raw),) = commands_send(client, [("HMGET", key, "seq", "value")])
                if raw is not None:
                    found = (int(seq), orjson.loads(raw))
            except REDIS_DOWN:
                redis_failed("read")
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
            except REDIS_DOWN:
                redis_failed("delete")
    else:
        cache.delete(key)


# KEYS: the list, its seq, the id of the newest trade in it. ARGV: seq, the kept
# length, the batch's first and last trade ids, then the JSON trades, oldest first.
# A batch that does not follow on from the newest trade held (a push was lost:
# Redis was down, or a worker died between its commit and its push) restarts the
# list, so the list never has a hole.
_PUSH_IF_NEWER = """
local current = redis.call('GET', KEYS[2])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
local newest = redis.call('GET', KEYS[3])
if not newest or tonumber(newest) + 1 ~= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
end
for i = 5, #ARGV do redis.call('LPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[4])
return 1
"""
RECENT_TRADES = 1000


def _push_command(symbol: str, seq: int, trades: list[dict]) -> tuple:
    keys = (
        _key("trades", symbol),
        _key("trades-seq", symbol),
        _key("trades-newest", symbol),
    )
    first, last = trades[0]["id"], trades[-1]["id"]
    args = [seq, RECENT_TRADES, first, last] + [orjson.dumps(t) for t in trades]
    return ("EVAL", _PUSH_IF_NEWER, 3, *keys, *args)


def trades_push(symbol: str, seq: int, trades: list[dict]) -> bool:
    """Add trades (oldest first, consecutive ids) to the symbol's recent-trades
    list, newest first, keeping the last :data:`RECENT_TRADES`. Skipped if ``seq``
    is not newer; the list restarts if the trades do not follow on."""
    if settings.REDIS_URL:
        return _send([_push_command(symbol, seq, trades)])[0]
    key, seq_key = _key("trades", symbol), _key("trades-seq", symbol)
    newest_key = _key("trades-newest", symbol)
    first, last = trades[0]["id"], trades[-1]["id"]
    with _local_guard:
        current = cache.get(seq_key)
        if current is not None and current >= seq:
            return False
        held = cache.get(key) or []
        if cache.get(newest_key) != first - 1:
            held = []
        kept = (list(reversed(trades)) + held)[:RECENT_TRADES]
        cache.set_many({key: kept, seq_key: seq, newest_key: last}, timeout=None)
        return True


def trades_recent(symbol: str, limit: int) -> list[dict] | None:
    """The last ``limit`` trades, oldest first, or None if the cache does not hold
    that many (then the database answers)."""
    key = _key("trades", symbol)
    found = None
    if settings.REDIS_URL:
        client = _redis()
        if client is not None:
            try:
                (raw,) = commands_send(client, [("LRANGE", key, 0, limit - 1)])
                if len(raw) >= limit:
                    found = [orjson.loads(item) for item in reversed(raw)]
            except REDIS_DOWN:
                redis_failed("read")
    else:
        kept = cache.get(key) or []
        if len(kept) >= limit:
            found = list(reversed(kept[:limit]))
    CACHE_REQUESTS.labels("hit" if found is not None else "miss").inc()
    return found


def publish_on_commit(
    *, symbol: str, seq: int, book, spec: SymbolSpec, trades
) -> tuple[list, list]:
    """Capture the book's top levels and the new trades now (the caller holds the
    pair lock) and write them once the transaction commits. The callbacks run
    before the pair lock is released, so trades reach the list in order. Returns
    the top levels captured (bids, asks in ticks and lots)."""
    bids, asks = book.depth(DEPTH_LEVELS)
    snapshot = {"bids": bids, "asks": asks}
    public = [trade_public(t) for t in trades]

    def publish() -> None:
        # Runs after the commit: a failure here must not turn a placed order into
        # an error answer.
        try:
            if settings.REDIS_URL:
                # Both scripts in one round trip: a thread that delivers its own
                # events sends them with the commit's messages, as the pair lock
                # is released (exchange/bus.py); after an outage, the first write
                # goes alone, through the heal.
                commands = [_store_command(_key("depth", symbol), seq, snapshot)]
                if public:
                    commands.append(_push_command(symbol, seq, public))
                if not _unpublished and bus.stage(
                    commands, lambda: _unpublished.add(symbol)
                ):
                    return
                _send(commands)
            else:
                store_if_newer("depth", symbol, seq, snapshot)
                if public:
                    trades_push(symbol, seq, public)
        except REDIS_DOWN:
            redis_failed("publish")
        if settings.REDIS_URL and breaker_open():
            # Redis failed (now or just before): this snapshot is not there.
            _unpublished.add(symbol)

    transaction.on_commit(publish)
    return bids, asks
