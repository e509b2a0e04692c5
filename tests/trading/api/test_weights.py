"""Request weights, as Binance counts them, read back from X-MBX-USED-WEIGHT-1M."""

import time
from types import SimpleNamespace
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings

from tests.trading.api.conftest import API_DB, public

pytestmark = API_DB

ORDER = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01",
    "price": "50000",
}
TWO = '["BTCUSDT","ETHUSDT"]'


@pytest.fixture(autouse=True)
def frozen_rate_clock():
    with mock.patch(
        "trading.api.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_000.0)
    ):
        yield


def used(response) -> int:
    return int(response.headers["X-MBX-USED-WEIGHT-1M"])


def test_public_endpoint_weights(symbols):
    cases = [
        ("ping", {}, 1),
        ("time", {}, 1),
        ("exchangeInfo", {}, 20),
        ("depth", {"symbol": "BTCUSDT"}, 5),
        ("depth", {"symbol": "BTCUSDT", "limit": 500}, 25),
        ("depth", {"symbol": "BTCUSDT", "limit": 1000}, 50),
        ("depth", {"symbol": "BTCUSDT", "limit": 5000}, 250),
        ("trades", {"symbol": "BTCUSDT"}, 25),
        ("historicalTrades", {"symbol": "BTCUSDT"}, 25),
        ("aggTrades", {"symbol": "BTCUSDT"}, 4),
        ("klines", {"symbol": "BTCUSDT", "interval": "1h"}, 2),
        ("uiKlines", {"symbol": "BTCUSDT", "interval": "1h"}, 2),
        ("avgPrice", {"symbol": "BTCUSDT"}, 2),
        ("ticker/24hr", {"symbol": "BTCUSDT"}, 2),
        ("ticker/24hr", {"symbols": TWO}, 2),
        ("ticker/24hr", {}, 80),
        ("ticker/price", {"symbol": "BTCUSDT"}, 2),
        ("ticker/price", {"symbols": TWO}, 4),
        ("ticker/price", {}, 4),
        ("ticker/bookTicker", {"symbol": "BTCUSDT"}, 2),
        ("ticker/bookTicker", {}, 4),
        ("ticker", {"symbol": "BTCUSDT"}, 4),
        ("ticker", {"symbols": TWO}, 8),
    ]
    total = 0
    for path, query, weight in cases:
        response = public(path, query)
        assert response.status == 200, (path, response.body)
        total += weight
        assert used(response) == total, (path, query)


def test_signed_endpoint_weights(trader):
    alice = trader(USDT="10000")
    order_id = alice.order().body["orderId"]
    total = used(alice.api.get("rateLimit/order"))
    assert total == 1 + 40
    lookup = {"symbol": "BTCUSDT", "orderId": order_id}
    cases = [
        ("GET", "order", lookup, 4),
        ("GET", "openOrders", {"symbol": "BTCUSDT"}, 6),
        ("GET", "openOrders", {}, 80),
        ("GET", "allOrders", {"symbol": "BTCUSDT"}, 20),
        ("GET", "account", {}, 20),
        ("GET", "myTrades", {"symbol": "BTCUSDT"}, 20),
        ("GET", "myTrades", lookup, 5),
        ("POST", "order/test", ORDER, 1),
        ("POST", "order/test", {**ORDER, "computeCommissionRates": "true"}, 20),
        ("POST", "order", {**ORDER, "price": "49000"}, 1),
        ("DELETE", "order", lookup, 1),
        ("DELETE", "openOrders", {"symbol": "BTCUSDT"}, 1),
    ]
    for method, path, query, weight in cases:
        response = alice.api.call(method, path, query)
        assert response.status == 200, (path, response.body)
        total += weight
        assert used(response) == total, (method, path, query)


@override_settings(
    RATE_LIMITS={
        "enabled": True,
        "weight_per_minute": 50,
        "orders_per_10s": 100,
        "orders_per_day": 1000,
    }
)
def test_refused_requests_count_their_weight_too(trader):
    """A request refused before it ran (a bad signature, a wrong key) still uses
    its weight, so that guessing is rate-limited like anything else."""
    alice = trader()
    for total in (20, 40):
        response = alice.api.get("account", signature="0" * 64)
        assert (response.status, response.body["code"]) == (400, -1022)
        assert used(response) == total
    response = alice.api.get("account", signature="0" * 64)
    assert (response.status, response.body["code"]) == (429, -1003)
    assert "Retry-After" in response.headers
    assert alice.api.get("account").status == 429


def test_clearing_the_cache_resets_the_counters(trader):
    """The counters live in the cache's own namespace (as the market data does),
    so that whatever clears the cache, between tests or by an operator, also
    resets them: at once for the order counts, at each process's next weight
    sync (a quarter of a second by default) for request weight."""
    from django.core.cache import cache

    alice = trader(USDT="10000")
    assert used(alice.order()) == 1
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    later = time.monotonic() + settings.RATE_LIMIT_SYNC_SECONDS
    with mock.patch("trading.api.ratelimit.monotonic", lambda: later):
        assert used(public("ping")) == 1
    counts = alice.api.get("rateLimit/order").body
    assert [c["count"] for c in counts] == [0, 0]


@pytest.mark.parametrize(
    "query, weight",
    [
        ({"interval": "1m"}, 2),
        ({"interval": "1h", "limit": 1000}, 2),
        ({"interval": "1d", "limit": 1000}, 2),
        ({"interval": "5m", "limit": 500}, 4),
        ({"interval": "1w", "limit": 1000}, 8),
        ({"interval": "30m", "limit": 1000}, 31),
        ({"interval": "1M", "limit": 1000}, 32),
        ({"interval": "1M", "limit": 10}, 2),
    ],
)
def test_klines_weigh_what_they_merge(symbols, query, weight):
    """A coarse interval is built from finer stored rows: 1,000 monthly klines
    merge about 31,000 daily rows, and weigh accordingly (2 up to 1,000 rows,
    one more per 1,000)."""
    response = public("klines", {"symbol": "BTCUSDT", **query})
    assert response.status == 200, response.body
    assert used(response) == weight
