"""Binance's rate limits: request weight per IP per minute, orders per account per
10 seconds and per day, counted in the cache (Redis in production, so that every
worker and pod shares the counts). With the cache down, requests are not limited:
degraded service, not an outage; only an unreachable Redis lets requests through
unlimited, a bug must not."""

from __future__ import annotations

import threading
import time
from time import monotonic
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache

from exchange import errors
from exchange.errors import ExchangeError
from exchange.metrics import RATE_LIMIT_FAIL_OPEN
from exchange.redis import (
    REDIS_DOWN,
    breaker_open,
    cache_key,
    commands_send,
    redis_client,
    redis_failed,
)

_WINDOWS = {"1m": 60, "10s": 10, "1d": 86400}
_ORDER_LIMITS = {"10s": "orders_per_10s", "1d": "orders_per_day"}


class Counted(NamedTuple):
    """One counter a request adds to."""

    key: str
    amount: int
    ttl: int  # seconds the key lives in Redis
    limit: int
    unsent_max: int  # at most this much held back from Redis by one process


class _Tally:
    """This process's counts (request weight, orders), added to Redis in batches.

    Counting every request in Redis costs a round trip per request, about as much
    as serving a ping, and an order's count was a second Redis round trip on the
    order path (docs/performance.md). So counts are added here and sent with one
    INCRBY per key at most every ``sync_seconds``; a request in between is
    answered from the totals Redis gave at the last sync plus this process's
    counts since. A request is counted in Redis at once when the interval has
    passed, when one of its totals is within a fifth of its limit, or when this
    process holds more of a key unsent than the key allows (a twentieth of the
    limit, for an order count). So one process alone (and the tests) sees exact
    totals, near a limit every process does, and far from it a total seen by
    one process can trail the truth by what the others have not sent yet.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, list[int]] = {}  # key -> [amount, ttl]
        self.known: dict[str, tuple[int, float]] = {}  # key -> (total, expires)
        self.synced_at = 0.0

    def forget(self) -> None:
        with self.lock:
            self.pending.clear()
            self.known.clear()
            self.synced_at = 0.0

    def unsent(self, key: str) -> int:
        """What this process has counted on ``key`` since its last sync."""
        with self.lock:
            return self.pending.get(key, (0,))[0]

    def count(self, keys: list[Counted]) -> list[int] | None:
        """Add each key's amount and return the totals; None when Redis is
        needed and its breaker has opened meanwhile."""
        with self.lock:
            now = monotonic()
            local = now - self.synced_at < settings.RATE_LIMIT_SYNC_SECONDS
            totals = []
            for key, amount, ttl, limit, unsent_max in keys:
                entry = self.pending.setdefault(key, [0, ttl])
                entry[0] += amount
                total = self.known.get(key, (0, 0.0))[0] + entry[0]
                totals.append(total)
                if total * 5 >= limit * 4 or entry[0] > unsent_max:
                    local = False
            if local:
                return totals
            client = redis_client()  # looked up only when Redis is needed
            if client is None:
                return None
            flushed = list(self.pending.items())
            self.pending.clear()
            commands = []
            for key, (amount, key_ttl) in flushed:
                commands.append(("INCRBY", key, amount))
                commands.append(("EXPIRE", key, key_ttl, "NX"))
            replies = commands_send(client, commands)
            self.known = {k: v for k, v in self.known.items() if v[1] > now}
            for i, (key, (_, key_ttl)) in enumerate(flushed):
                self.known[key] = (int(replies[i * 2]), now + key_ttl)
            self.synced_at = now
            return [self.known[key][0] for key, *_ in keys]


_tally = _Tally()
rate_limit_forget = _tally.forget


def _count(keys: list[Counted]) -> list[int] | None:
    """Add each key's amount to its counter; the new totals, or None with the
    cache down."""
    try:
        if settings.REDIS_URL:
            if breaker_open():
                return None
            return _tally.count(keys)
        totals = []
        for key, amount, ttl, *_ in keys:
            cache.add(key, 0, ttl)
            totals.append(cache.incr(key, amount))
        return totals
    except REDIS_DOWN:
        redis_failed("rate limits")
        return None


def _key(scope: str, who: str, window: str, now: float) -> tuple[str, int]:
    """The counter's key, in the cache's namespace (on Redis, the full key the
    cache API would use), and the seconds left in its window."""
    seconds = _WINDOWS[window]
    bucket = int(now // seconds)
    key = cache_key(f"rl:{scope}:{who}:{window}:{bucket}")
    return key, int((bucket + 1) * seconds - now) + 1


def rate_limit_check(*, ip: str, weight: int, user_id: int | None, order: bool) -> dict:
    """Count this request; return Binance's usage headers, or refuse with 429."""
    config = settings.RATE_LIMITS
    if not config["enabled"]:
        return {}
    now = time.time()
    weight_key, weight_wait = _key("w", ip, "1m", now)
    weight_limit = config["weight_per_minute"]
    keys = [Counted(weight_key, weight, 61, weight_limit, weight_limit)]
    order_waits = []
    if order and user_id is not None:
        for window in ("10s", "1d"):
            key, wait = _key("o", str(user_id), window, now)
            limit = config[_ORDER_LIMITS[window]]
            keys.append(Counted(key, 1, _WINDOWS[window] + 1, limit, limit // 20))
            order_waits.append(wait)
    totals = _count(keys)
    if totals is None:
        RATE_LIMIT_FAIL_OPEN.inc()
        return {}
    headers = {"X-MBX-USED-WEIGHT-1M": str(totals[0])}
    if order and user_id is not None:
        headers["X-MBX-ORDER-COUNT-10S"] = str(totals[1])
        headers["X-MBX-ORDER-COUNT-1D"] = str(totals[2])
    if totals[0] > weight_limit:
        raise ExchangeError(
            errors.TOO_MANY_REQUESTS,
            f"Too much request weight used; current limit is {weight_limit} "
            "request weight per 1 MINUTE. Please use WebSocket Streams for live "
            "updates to avoid polling the API.",
            429,
            headers={**headers, "Retry-After": str(weight_wait)},
            reason="rate_limited",
        )
    if order and user_id is not None:
        for total, limit, window, wait in (
            (totals[1], config["orders_per_10s"], "10 SECOND", order_waits[0]),
            (totals[2], config["orders_per_day"], "1 DAY", order_waits[1]),
        ):
            if total > limit:
                raise ExchangeError(
                    errors.TOO_MANY_ORDERS,
                    f"Too many new orders; current limit is {limit} orders per "
                    f"{window}.",
                    429,
                    headers={**headers, "Retry-After": str(wait)},
                    reason="order_rate_limited",
                )
    return headers


def order_counts(*, user_id: int) -> tuple[int, int]:
    """The account's current order counts (10 s, 1 day), without counting: what
    Redis holds, plus what this process has counted and not yet sent."""
    now = time.time()
    values = []
    for window in ("10s", "1d"):
        key, _ = _key("o", str(user_id), window, now)
        try:
            if settings.REDIS_URL:
                client = redis_client()
                held = int(client.get(key) or 0) if client else 0
                values.append(held + _tally.unsent(key))
            else:
                values.append(int(cache.get(key) or 0))
        except REDIS_DOWN:
            redis_failed("rate limits")
            values.append(0)
    return values[0], values[1]


def rate_limits_info() -> list[dict]:
    """The limits as exchangeInfo and rateLimit/order describe them."""
    limits = settings.RATE_LIMITS
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": limits["weight_per_minute"],
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": limits["orders_per_10s"],
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "DAY",
            "intervalNum": 1,
            "limit": limits["orders_per_day"],
        },
    ]
