"""Throttling of login and other guessable attempts: fixed windows counted in
the cache (Redis in production), per IP and per account, with a per-process
count while Redis is unreachable."""

import hashlib
import threading
import time

from django.conf import settings
from django.core.cache import cache

from exchange import errors
from exchange.errors import ExchangeError
from exchange.metrics import THROTTLE_LOCAL_FALLBACK

_local_lock = threading.Lock()


# Counts kept in this process while the shared cache is unreachable:
# key -> (window bucket, count). Bounded; see _hit_local.
_local_counts: dict[str, tuple[int, int]] = {}
LOCAL_KEYS_MAX = 50_000


def _hit(key: str, limit: int, window: int) -> int | None:
    """Count one attempt; the seconds to wait if the limit is passed, else None.

    With the shared cache (Redis) unreachable the attempt is counted in this
    process instead (:func:`_hit_local`): throttling never fails open silently.
    """
    now = time.time()
    bucket = int(now // window)
    cache_key = f"throttle:{key}:{bucket}"
    cache.add(cache_key, 0, window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, window + 1)
        count = 1
    if count is None:
        # django-redis answers None for every call while Redis is down
        # (IGNORE_EXCEPTIONS).
        THROTTLE_LOCAL_FALLBACK.inc()
        count = _hit_local(key, bucket)
    if count <= limit:
        return None
    return max(1, int((bucket + 1) * window - now) + 1)


def _hit_local(key: str, bucket: int) -> int:
    """Count in this process: each process then allows the limit, so the budget
    is the limit times the processes, for as long as Redis is down. When the
    table is full even after dropping past windows, refuse (count past any
    limit): a flood of names must not make room by forgetting counts."""
    with _local_lock:
        held = _local_counts.get(key)
        if held is None or held[0] != bucket:
            if len(_local_counts) >= LOCAL_KEYS_MAX:
                for stale in [k for k, v in _local_counts.items() if v[0] < bucket]:
                    del _local_counts[stale]
                if len(_local_counts) >= LOCAL_KEYS_MAX:
                    return 1 << 30
            held = (bucket, 0)
        count = held[1] + 1
        _local_counts[key] = (bucket, count)
        return count


def local_counts_clear() -> None:
    with _local_lock:
        _local_counts.clear()


def login_throttle_check(*, ip: str, username: str) -> None:
    """Refuse the attempt with 429 and ``Retry-After`` once either budget is spent."""
    config = settings.LOGIN_THROTTLE
    window = config["window_seconds"]
    waits = [
        _hit(f"login-ip:{ip}", config["ip_limit"], window),
        _hit(_account(username), config["account_limit"], window),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise ExchangeError(
            errors.TOO_MANY_REQUESTS,
            f"Too many login attempts; retry after {wait} seconds.",
            429,
            headers={"Retry-After": str(wait)},
            reason="login_throttled",
        )


def login_throttle_reset(*, username: str) -> None:
    """Forget an account's failed attempts after a successful login."""
    window = settings.LOGIN_THROTTLE["window_seconds"]
    cache.delete(f"throttle:{_account(username)}:{int(time.time() // window)}")
    with _local_lock:
        _local_counts.pop(_account(username), None)


def _account(username: str) -> str:
    """The account's budget, named by a digest of the name as typed (any case):
    a login name is whatever the client sent, spaces and control characters
    included, and cache keys must not carry those (memcached refuses them)."""
    digest = hashlib.sha256(username.lower().encode("utf-8", "replace")).hexdigest()
    return f"login-user:{digest[:32]}"


def attempt_throttle_check(*, scope: str, key: str) -> None:
    """Count one attempt at ``scope`` (``settings.ATTEMPT_THROTTLES``) by ``key``
    (a user id, a client IP); refuse with 429 once the window's budget is spent."""
    limit, window = settings.ATTEMPT_THROTTLES[scope]
    digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32]
    wait = _hit(f"{scope}:{digest}", limit, window)
    if wait is not None:
        raise ExchangeError(
            errors.TOO_MANY_REQUESTS,
            f"Too many attempts; retry after {wait} seconds.",
            429,
            headers={"Retry-After": str(wait)},
            reason=f"{scope}_throttled",
        )
