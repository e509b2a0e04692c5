"""Market data through /api/v3: klines of every interval, trades, aggregate trades."""

import pytest

from tests.api.conftest import public

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("interval", ["1s", "1m", "1w", "1M"])
@pytest.mark.parametrize(
    "params",
    [
        {"startTime": "99999999999999999"},
        {"startTime": "9223372036854775807"},
        {"endTime": "9223372036854775807"},
        {"startTime": "0", "endTime": "9223372036854775807", "limit": "1000"},
    ],
)
def test_klines_far_in_the_future_are_empty_not_a_server_error(
    symbols, interval, params
):
    response = public("klines", {"symbol": "BTCUSDT", "interval": interval, **params})
    assert (response.status, response.body) == (200, [])


def _aggregates(**query):
    response = public("aggTrades", {"symbol": "BTCUSDT", **query})
    assert response.status == 200, response.body
    return [(a["a"], a["p"], a["q"], a["f"], a["l"], a["m"]) for a in response.body]


@pytest.fixture
def three_aggregates(trader):
    """Trades 1-3 (one taker at 60000), 4-5 (the same taker at 60001), 6 (another
    taker, selling into a bid)."""
    sellers = [trader(BTC="1") for _ in range(5)]
    for seller, price in zip(sellers, ["60000"] * 3 + ["60001"] * 2, strict=True):
        assert seller.order(side="SELL", price=price).status == 200
    buyer = trader(USDT="10000", BTC="1")
    taker = buyer.order(quantity="0.05", price="60001").body
    assert [f["tradeId"] for f in taker["fills"]] == [1, 2, 3, 4, 5]
    assert buyer.order(quantity="0.01", price="59000").status == 200
    assert sellers[0].order(side="SELL", price="59000").status == 200
    return buyer


def test_aggregate_trades_join_one_takers_fills_at_one_price(three_aggregates):
    every = [
        (1, "60000.00000000", "0.03000000", 1, 3, False),
        (4, "60001.00000000", "0.02000000", 4, 5, False),
        (6, "59000.00000000", "0.01000000", 6, 6, True),
    ]
    assert _aggregates() == every
    assert _aggregates(fromId=1) == every
    assert _aggregates(limit=1) == every[-1:]
    assert _aggregates(limit=2) == every[-2:]
    trade_time = public("trades", {"symbol": "BTCUSDT"}).body[0]["time"]
    assert _aggregates(startTime=trade_time, endTime=trade_time + 1000) == every


def test_aggregate_trades_page_whole_by_from_id(three_aggregates):
    """Paging by ``fromId`` = last ``a`` + 1, as clients do, neither repeats nor
    loses a fill: an aggregate is never cut by ``limit``, and ``fromId`` inside an
    aggregate starts at the next one."""
    assert _aggregates(fromId=1, limit=1) == [
        (1, "60000.00000000", "0.03000000", 1, 3, False)
    ]
    assert _aggregates(fromId=2, limit=1) == [
        (4, "60001.00000000", "0.02000000", 4, 5, False)
    ]
    assert _aggregates(fromId=5, limit=2) == [
        (6, "59000.00000000", "0.01000000", 6, 6, True)
    ]
    assert _aggregates(fromId=7) == []
