"""Reads of accounts data."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from accounts.models import ApiKey, Balance
from accounts.services import (
    APIKEY_GENERATION,
    apikey_cache_key,
    apikey_generation,
    apikey_records,
)
from exchange.db import prepared_read


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What authenticating a signed request needs to know about a key."""

    id: int
    user_id: int
    username: str
    secret_encrypted: str
    can_read: bool
    can_trade: bool
    ip_allowlist: list[str]
    active: bool


def apikey_lookup(*, key: str) -> ApiKeyRecord | None:
    """The key's record: from this process's memory while no key has been
    revoked (checked every ``key_local_seconds``), else from the cache (dropped
    on revoke), else from the database. None for an unknown key."""
    now = time.monotonic()
    seconds = settings.SIGNED_REQUEST["key_local_seconds"]
    if seconds <= 0:
        return _apikey_lookup_shared(key)
    if now - apikey_generation[1] >= seconds:
        _generation_check(now)
    remembered = apikey_records.get(key)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    record = _apikey_lookup_shared(key)
    if len(apikey_records) >= 10_000:
        apikey_records.clear()
    lifetime = max(seconds, settings.SIGNED_REQUEST["key_cache_seconds"])
    apikey_records[key] = (now + lifetime, record)
    return record


def _generation_check(now: float) -> None:
    """Forget every remembered key record if a key was revoked anywhere since
    the last check, or if the cache cannot tell (then records last a check)."""
    generation = cache.get(APIKEY_GENERATION, "")  # None: the cache is down
    if generation is None or generation != apikey_generation[0]:
        apikey_records.clear()
    apikey_generation[:] = [generation, now]


def _apikey_lookup_shared(key: str) -> ApiKeyRecord | None:
    cache_key = apikey_cache_key(key)
    cached = cache.get(cache_key)
    if cached is not None:
        return ApiKeyRecord(**cached) if cached else None
    row = (
        ApiKey.objects.filter(key=key)
        .select_related("user")
        .only(
            "id",
            "user_id",
            "user__username",
            "user__is_active",
            "secret_encrypted",
            "can_read",
            "can_trade",
            "ip_allowlist",
            "revoked_at",
        )
        .first()
    )
    record = None
    if row is not None:
        record = ApiKeyRecord(
            id=row.id,
            user_id=row.user_id,
            username=row.user.username,
            secret_encrypted=row.secret_encrypted,
            can_read=row.can_read,
            can_trade=row.can_trade,
            ip_allowlist=list(row.ip_allowlist or []),
            active=row.revoked_at is None and row.user.is_active,
        )
    cache.set(
        cache_key,
        asdict(record) if record else {},
        settings.SIGNED_REQUEST["key_cache_seconds"],
    )
    return record


def apikey_list(*, user_id: int):
    return ApiKey.objects.filter(user_id=user_id, revoked_at=None).order_by("id")


def balance_list(*, user_id: int):
    """The user's balances, every asset they have ever held, ordered by asset."""
    return Balance.objects.filter(user_id=user_id).order_by("asset_id")


BALANCES_OF = (
    "SELECT asset_id, free, locked FROM accounts_balance "
    "WHERE user_id = %s::bigint ORDER BY asset_id"
)


def balances_of(user_id: int) -> list[tuple]:
    """(asset, free, locked) of every asset the user has held, by asset; on
    PostgreSQL one prepared statement (GET account is a frequent signed read)."""
    if connection.vendor == "postgresql":
        return prepared_read(BALANCES_OF, (user_id,), tuple)
    return balances_of_orm(user_id)


def balances_of_orm(user_id: int) -> list[tuple]:
    query = Balance.objects.filter(user_id=user_id).order_by("asset_id")
    return list(query.values_list("asset_id", "free", "locked"))
