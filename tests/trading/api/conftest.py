"""Fixtures for the /api/v3 tests: fresh books and caches, traders with API keys, and
a client that signs requests the way Binance's clients do."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import Balance, LedgerEntry
from matching.registry import registry
from tests.factories import funded_user, standard_symbols
from tests.security.clients import raw_cache_clear
from tools.binance_client import sign
from trading.marketdata import selectors as market_selectors
from trading.models import Order, Symbol, Trade
from trading.symbols import selectors as symbol_selectors

# Every API test commits (order placement publishes to the cache on commit), so
# each runs in a transactional database that is flushed afterwards. Naming the apps
# the tests use keeps the flush to their tables and skips re-creating permissions
# and content types after every test.
API_DB = pytest.mark.django_db(
    transaction=True,
    available_apps=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "rest_framework_simplejwt.token_blacklist",
        "accounts",
        "matching",
        "trading",
    ],
)


@pytest.fixture(autouse=True)
def _fresh_books_and_cache():
    registry.clear()
    raw_cache_clear()
    yield
    registry.clear()
    raw_cache_clear()


@pytest.fixture
def symbols(transactional_db):
    return standard_symbols()


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Response:
    status: int
    body: object
    headers: dict


_clients: list[Client] = []


def _client() -> Client:
    """One test client for the session: building one loads the middleware, and
    WhiteNoise scans every static file when it starts."""
    if not _clients:
        _clients.append(Client(raise_request_exception=False))
    return _clients[0]


class Signed:
    """Binance-style requests for one API key: ``signature`` is the hex HMAC-SHA256
    of the query string followed by the form body."""

    def __init__(self, key: str, secret: str, ip: str = "127.0.0.1") -> None:
        self.key = key
        self.secret = secret
        self.ip = ip
        self.client = _client()

    def call(
        self,
        method: str,
        path: str,
        query=None,
        body=None,
        *,
        signed: bool = True,
        timestamp: int | None = None,
        signature: str | None = None,
        signature_in: str = "query",
        timestamp_in: str | None = None,
        key: str | None = None,
    ) -> Response:
        """``query`` and ``body`` are dicts, lists of pairs or raw strings. When signed,
        ``timestamp`` goes last in the body if there is one (else in the query) and
        ``signature`` last in ``signature_in``."""
        query_string = query if isinstance(query, str) else urlencode(query or {})
        body_string = body if isinstance(body, str) else urlencode(body or {})
        if signed:
            stamp = f"timestamp={now_ms() if timestamp is None else timestamp}"
            where = timestamp_in or ("body" if body_string else "query")
            if where == "body":
                body_string = f"{body_string}&{stamp}" if body_string else stamp
            else:
                query_string = f"{query_string}&{stamp}" if query_string else stamp
            signature = signature or sign(self.secret, query_string + body_string)
            pair = f"signature={signature}"
            if signature_in == "body":
                body_string = f"{body_string}&{pair}" if body_string else pair
            else:
                query_string = f"{query_string}&{pair}" if query_string else pair
        url = f"/api/v3/{path}" + (f"?{query_string}" if query_string else "")
        extra = {"REMOTE_ADDR": self.ip}
        if key is not None or signed:
            extra["HTTP_X_MBX_APIKEY"] = key if key is not None else self.key
        response = self.client.generic(
            method,
            url,
            data=body_string,
            content_type="application/x-www-form-urlencoded",
            **extra,
        )
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.content
        return Response(response.status_code, parsed, response.headers)

    def get(self, path, query=None, **kw) -> Response:
        return self.call("GET", path, query, **kw)

    def post(self, path, query=None, body=None, **kw) -> Response:
        return self.call("POST", path, query, body, **kw)

    def delete(self, path, query=None, body=None, **kw) -> Response:
        return self.call("DELETE", path, query, body, **kw)

    def put(self, path, query=None, body=None, **kw) -> Response:
        return self.call("PUT", path, query, body, **kw)


def public(path: str, query=None, method: str = "GET") -> Response:
    return Signed("", "").call(method, path, query, signed=False)


@dataclass
class Trader:
    user: object
    key: str
    secret: str
    api: Signed

    def order(self, **params) -> Response:
        """POST /api/v3/order: a LIMIT GTC BUY of 0.01 BTCUSDT at 50000 unless told
        otherwise. ``timestamp`` and ``signature`` go to the signer."""
        signing = {k: params.pop(k) for k in ("timestamp", "signature") if k in params}
        order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", **params}
        if order["type"] == "LIMIT":
            order = {
                "timeInForce": "GTC",
                "quantity": "0.01",
                "price": "50000",
                **order,
            }
        return self.api.post("order", order, **signing)

    def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        row = Balance.objects.filter(user=self.user, asset_id=asset).first()
        return (row.free, row.locked) if row else (Decimal(0), Decimal(0))


def make_trader(
    permissions=("read", "trade"), ips=(), ip="127.0.0.1", **balances
) -> Trader:
    user = funded_user(**balances)
    key, secret = account_services.apikey_create(
        user_id=user.id, permissions=list(permissions), ip_allowlist=list(ips)
    )
    return Trader(user, key.key, secret, Signed(key.key, secret, ip=ip))


@pytest.fixture
def trader(symbols):
    """A factory: ``trader(BTC="1", USDT="1000")``."""
    return make_trader


def snapshot(symbol: str = "BTCUSDT") -> dict:
    """Everything an order request may change: balances, orders, trades, the
    ledger, the symbol's counters and its book, in the database and in this
    process's memory (a book not built yet counts as the one the database holds)."""
    spec = symbol_selectors.symbol_spec_get(symbol)
    seq, bids, asks = market_selectors.depth_from_database(
        symbol=symbol, spec=spec, limit=1000
    )
    slot = registry.slot(symbol)
    memory = (bids, asks) if slot.stale else slot.book.depth(1000)
    return {
        "balances": sorted(
            Balance.objects.values_list("user_id", "asset_id", "free", "locked")
        ),
        "orders": sorted(
            Order.objects.values_list(
                "symbol_id", "order_id", "status", "executed_qty", "client_order_id"
            )
        ),
        "trades": Trade.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "symbols": sorted(
            Symbol.objects.values_list(
                "symbol", "status", "book_seq", "last_order_id", "last_trade_id"
            )
        ),
        "depth": (seq, bids, asks),
        "memory_book": memory,
    }
