"""What the security and fuzz tests share: clients that authenticate as a real
client would (a JWT bearer, or a Binance-signed request), and a snapshot of
everything a request could change."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services as account_services
from accounts.models import ApiKey, Balance, LedgerEntry
from tools.binance_client import sign
from trading.api.ratelimit import rate_limit_forget
from trading.models import Order, Symbol, Trade


def raw_cache_clear() -> None:
    """Empty the cache, including the keys written beside Django's cache API
    (rate-limit counters and market data live under ``<prefix>:rl:`` and
    ``<prefix>:md:`` in Redis), and this process's unsent request weight."""
    rate_limit_forget()
    if settings.REDIS_URL:
        from django_redis import get_redis_connection

        client = get_redis_connection("default")
        prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
        for key in client.scan_iter(f"{prefix}:*", count=1000):
            client.delete(key)
    else:
        cache.clear()


def snapshot() -> dict:
    """Everything a trading request may change: balances, orders, trades, the
    ledger, the symbols' counters and status, and the API keys."""
    return {
        "balances": sorted(
            Balance.objects.values_list("user_id", "asset_id", "free", "locked")
        ),
        "orders": sorted(
            Order.objects.values_list(
                "symbol_id",
                "order_id",
                "user_id",
                "status",
                "executed_qty",
                "client_order_id",
                "seq",
            )
        ),
        "trades": sorted(Trade.objects.values_list("symbol_id", "trade_id")),
        "ledger": LedgerEntry.objects.count(),
        "symbols": sorted(
            Symbol.objects.values_list(
                "symbol", "status", "book_seq", "last_order_id", "last_trade_id"
            )
        ),
        "api_keys": sorted(ApiKey.objects.values_list("id", "revoked_at")),
    }


def now_ms() -> int:
    return int(time.time() * 1000)


def access_token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@dataclass
class Answer:
    status: int
    body: object
    headers: dict

    @property
    def code(self) -> int | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


def _answer(response) -> Answer:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = response.content
    return Answer(response.status_code, body, dict(response.headers))


class Bearer:
    """Requests with ``Authorization: Bearer <token>``; parameters in the query
    string, or a raw form body."""

    def __init__(self, token: str, ip: str = "127.0.0.1") -> None:
        self.token = token
        self.ip = ip
        self.client = Client(raise_request_exception=False)

    def call(self, method: str, path: str, query=None, body=None, **extra) -> Answer:
        query_string = query if isinstance(query, str) else urlencode(query or {})
        body_string = body if isinstance(body, str) else urlencode(body or {})
        url = path + (f"?{query_string}" if query_string else "")
        headers = {"REMOTE_ADDR": self.ip, **extra}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return _answer(
            self.client.generic(
                method,
                url,
                data=body_string,
                content_type="application/x-www-form-urlencoded",
                **headers,
            )
        )

    def get(self, path, query=None, **extra) -> Answer:
        return self.call("GET", path, query, **extra)

    def post(self, path, query=None, body=None, **extra) -> Answer:
        return self.call("POST", path, query, body, **extra)

    def delete(self, path, query=None, body=None, **extra) -> Answer:
        return self.call("DELETE", path, query, body, **extra)


class Signed:
    """Binance-signed requests for one API key: ``timestamp`` goes last in the query
    string, then ``signature``, the hex HMAC-SHA256 of the query string followed by
    the form body."""

    def __init__(self, key: str, secret: str, ip: str = "127.0.0.1") -> None:
        self.key = key
        self.secret = secret
        self.ip = ip
        self.client = Client(raise_request_exception=False)

    def prepare(
        self,
        query=None,
        body=None,
        *,
        timestamp: int | None = None,
        recv_window: int | None = None,
    ) -> tuple[str, str, str]:
        """(query string, body, signature) for these parameters."""
        query_string = query if isinstance(query, str) else urlencode(query or {})
        body_string = body if isinstance(body, str) else urlencode(body or {})
        extra = []
        if recv_window is not None:
            extra.append(f"recvWindow={recv_window}")
        extra.append(f"timestamp={now_ms() if timestamp is None else timestamp}")
        query_string = "&".join(filter(None, [query_string, *extra]))
        return query_string, body_string, sign(self.secret, query_string + body_string)

    def send(
        self,
        method: str,
        path: str,
        query_string: str,
        body_string: str = "",
        signature: str | None = None,
        key: str | None = None,
    ) -> Answer:
        """Send exactly these bytes; ``signature`` is appended to the query."""
        if signature is not None:
            query_string = "&".join(
                filter(None, [query_string, f"signature={signature}"])
            )
        url = path + (f"?{query_string}" if query_string else "")
        return _answer(
            self.client.generic(
                method,
                url,
                data=body_string,
                content_type="application/x-www-form-urlencoded",
                REMOTE_ADDR=self.ip,
                HTTP_X_MBX_APIKEY=self.key if key is None else key,
            )
        )

    def call(self, method: str, path: str, query=None, body=None, **kw) -> Answer:
        query_string, body_string, signature = self.prepare(query, body, **kw)
        return self.send(method, path, query_string, body_string, signature)

    def get(self, path, query=None, **kw) -> Answer:
        return self.call("GET", path, query, **kw)

    def post(self, path, query=None, body=None, **kw) -> Answer:
        return self.call("POST", path, query, body, **kw)

    def delete(self, path, query=None, body=None, **kw) -> Answer:
        return self.call("DELETE", path, query, body, **kw)


def signed_client(user, permissions=("read", "trade"), ip="127.0.0.1") -> Signed:
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=list(permissions)
    )
    client = Signed(key.key, secret, ip=ip)
    client.key_id = key.id
    return client


def bearer_client(user, ip="127.0.0.1") -> Bearer:
    return Bearer(access_token(user), ip=ip)
