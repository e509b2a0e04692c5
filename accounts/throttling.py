"""Login throttling: fixed windows counted in the cache, per IP and per account."""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from exchange import errors
from exchange.errors import ExchangeError


def _hit(key: str, limit: int, window: int) -> int | None:
    """Count one attempt; the seconds to wait if the limit is passed, else None."""
    now = time.time()
    bucket = int(now // window)
    cache_key = f"throttle:{key}:{bucket}"
    cache.add(cache_key, 0, window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, window + 1)
        count = 1
    if count is None or count <= limit:
        return None
    return max(1, int((bucket + 1) * window - now) + 1)


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
