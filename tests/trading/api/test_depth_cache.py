"""Depth served from the market-data cache and from the database fallback is the
same answer for the same book_seq (run on both backends: the local cache with
SQLite, Redis with PostgreSQL)."""

import pytest

from tests.trading.api.conftest import API_DB, public
from tests.trading.conftest import place
from trading.marketdata import cache as market_cache
from trading.marketdata import selectors as market_selectors
from trading.symbols import selectors as symbol_selectors

pytestmark = API_DB


@pytest.fixture
def deep_book(trader):
    """More bid levels than the cache keeps, several orders on some levels, and
    partly filled asks."""
    bidder = trader(USDT="1000000").user
    asker = trader(BTC="10").user
    taker = trader(USDT="1000000").user
    for level in range(market_cache.DEPTH_LEVELS + 7):
        place(bidder, "BUY", "0.001", str(50000 - level))
    for _ in range(3):
        place(bidder, "BUY", "0.00017", "49999")
    for level in range(5):
        place(asker, "SELL", "0.01", f"{60000 + level}.5")
        place(asker, "SELL", "0.02", f"{60000 + level}.5")
    place(taker, "BUY", "0.025", "60001.5")  # takes most of the 60000.5 level


def test_depth_from_cache_and_from_database_are_identical(deep_book):
    cached = market_cache.load("depth", "BTCUSDT")
    assert cached is not None
    seq = cached[0]
    assert seq == symbol_selectors.symbol_get("BTCUSDT").book_seq

    for limit in (1, 5, 100):
        from_cache = market_selectors.depth_get(symbol="BTCUSDT", limit=limit)
        market_cache.forget("depth", "BTCUSDT")
        assert market_cache.load("depth", "BTCUSDT") is None
        from_database = market_selectors.depth_get(symbol="BTCUSDT", limit=limit)
        assert from_database == from_cache, limit
        assert from_database["lastUpdateId"] == seq
        assert len(from_database["bids"]) == limit
        if limit == 100:
            # A full-size read from the database refills the cache.
            assert market_cache.load("depth", "BTCUSDT")[0] == seq
        else:
            market_cache.store_if_newer("depth", "BTCUSDT", *cached)

    top = market_selectors.depth_get(symbol="BTCUSDT", limit=5)
    assert top["bids"][:2] == [
        ["50000.00000000", "0.00100000"],
        ["49999.00000000", "0.00151000"],
    ]
    assert top["asks"][:2] == [
        ["60000.50000000", "0.00500000"],
        ["60001.50000000", "0.03000000"],
    ]
    deeper = market_selectors.depth_get(symbol="BTCUSDT", limit=1000)
    assert len(deeper["bids"]) == market_cache.DEPTH_LEVELS + 7
    assert (
        deeper["bids"][:100]
        == market_selectors.depth_get(symbol="BTCUSDT", limit=100)["bids"]
    )


def test_depth_over_http_is_the_same_from_either_source(deep_book):
    from_cache = public("depth", {"symbol": "BTCUSDT", "limit": 20}).body
    market_cache.forget("depth", "BTCUSDT")
    from_database = public("depth", {"symbol": "BTCUSDT", "limit": 20}).body
    assert from_database == from_cache
    assert len(from_cache["bids"]) == 20 and len(from_cache["asks"]) == 5


def test_an_older_snapshot_never_replaces_a_newer_one(deep_book):
    seq, value = market_cache.load("depth", "BTCUSDT")
    assert not market_cache.store_if_newer("depth", "BTCUSDT", seq - 1, {"bids": []})
    assert market_cache.load("depth", "BTCUSDT") == (seq, value)
