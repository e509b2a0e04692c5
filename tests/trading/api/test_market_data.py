"""Market data through /api/v3: klines of every interval, trades, aggregate trades."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.factories import UserFactory
from tests.trading.api.conftest import API_DB, public
from trading.marketdata.klines import Candle, klines_record
from trading.models import Trade

pytestmark = API_DB


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


def ms(*moment) -> int:
    return int(datetime(*moment, tzinfo=UTC).timestamp() * 1000)


def candle(at, o, h, low, c, volume, quote, trades, buy_base, buy_quote, first, last):
    return Candle(
        open_time=at,
        open=Decimal(o),
        high=Decimal(h),
        low=Decimal(low),
        close=Decimal(c),
        volume=Decimal(volume),
        quote_volume=Decimal(quote),
        trades=trades,
        taker_buy_base=Decimal(buy_base),
        taker_buy_quote=Decimal(buy_quote),
        first_trade_id=first,
        last_trade_id=last,
    )


@pytest.fixture
def kline_history(symbols):
    """Five orders' trades at chosen moments around a month end, a week start and
    a leap February: 2024-01-29 is a Monday."""
    for c in [
        candle(
            ms(2024, 1, 31, 23, 59, 30), 100, 110, 90, 105, 1, 100, 2, "0.5", 50, 1, 2
        ),
        candle(ms(2024, 2, 1, 0, 0, 10), 106, 120, 100, 115, 2, 220, 3, 1, 110, 3, 5),
        candle(ms(2024, 2, 4, 12), 114, 114, 80, 85, 1, 90, 1, 0, 0, 6, 6),
        candle(ms(2024, 2, 5), 86, 90, 86, 88, 3, 264, 4, 3, 264, 7, 10),
        candle(
            ms(2024, 3, 1) + 1,  # a millisecond into March
            200,
            200,
            200,
            200,
            "0.5",
            100,
            1,
            0,
            0,
            11,
            11,
        ),
    ]:
        klines_record(symbol="BTCUSDT", candle=c)


def klines(interval, **query):
    response = public("klines", {"symbol": "BTCUSDT", "interval": interval, **query})
    assert response.status == 200, response.body
    return [
        (row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])
        + (row[9], row[10])
        for row in response.body
    ]


def row(open_time, close_time, o, h, low, c, volume, quote, trades, buy, buy_quote):
    def f(x):
        return f"{Decimal(x):.8f}"

    return (
        open_time,
        f(o),
        f(h),
        f(low),
        f(c),
        f(volume),
        close_time,
        f(quote),
        trades,
        f(buy),
        f(buy_quote),
    )


JAN = row(ms(2024, 1, 1), ms(2024, 2, 1) - 1, 100, 110, 90, 105, 1, 100, 2, "0.5", 50)
FEB = row(ms(2024, 2, 1), ms(2024, 3, 1) - 1, 106, 120, 80, 88, 6, 574, 8, 4, 374)
MAR = row(ms(2024, 3, 1), ms(2024, 4, 1) - 1, 200, 200, 200, 200, "0.5", 100, 1, 0, 0)


def test_monthly_klines_follow_the_calendar(kline_history):
    since = {"startTime": ms(2024, 1, 1)}
    assert klines("1M", **since) == [JAN, FEB, MAR]
    assert klines("1M", startTime=ms(2024, 1, 15)) == [FEB, MAR]
    assert klines("1M", **since, limit=2) == [JAN, FEB]
    assert klines("1M", endTime=ms(2024, 2, 15)) == [JAN, FEB]
    assert klines("1M", endTime=ms(2024, 2, 15), limit=1) == [FEB]
    assert klines("1M", **since, endTime=ms(2024, 2, 29, 23)) == [JAN, FEB]


def test_weekly_klines_start_on_monday(kline_history):
    week = 7 * 24 * 3600 * 1000
    assert klines("1w", startTime=ms(2024, 1, 1)) == [
        row(
            ms(2024, 1, 29), ms(2024, 2, 5) - 1, 100, 120, 80, 85, 4, 410, 6, "1.5", 160
        ),
        row(ms(2024, 2, 5), ms(2024, 2, 12) - 1, 86, 90, 86, 88, 3, 264, 4, 3, 264),
        row(
            ms(2024, 2, 26),
            ms(2024, 2, 26) + week - 1,
            200,
            200,
            200,
            200,
            "0.5",
            100,
            1,
            0,
            0,
        ),
    ]


def test_daily_hourly_and_minute_klines(kline_history):
    day = klines("1d", startTime=ms(2024, 1, 31), endTime=ms(2024, 2, 5))
    assert [r[0] for r in day] == [
        ms(2024, 1, 31),
        ms(2024, 2, 1),
        ms(2024, 2, 4),
        ms(2024, 2, 5),
    ]
    three_days = klines("3d", startTime=ms(2024, 1, 28), endTime=ms(2024, 2, 6))
    # 3-day klines are counted from the epoch: 2024-01-30 and 2024-02-02 open two.
    assert [(r[0], r[8]) for r in three_days] == [
        (ms(2024, 1, 30), 5),
        (ms(2024, 2, 2), 1),
        (ms(2024, 2, 5), 4),
    ]
    four_hours = klines("4h", startTime=ms(2024, 1, 31, 20), limit=2)
    assert [(r[0], r[6], r[4]) for r in four_hours] == [
        (ms(2024, 1, 31, 20), ms(2024, 2, 1) - 1, "105.00000000"),
        (ms(2024, 2, 1), ms(2024, 2, 1, 4) - 1, "115.00000000"),
    ]
    # ``limit`` counts intervals from startTime; one without trades has no kline.
    minutes = klines("15m", startTime=ms(2024, 1, 31, 23, 45), limit=3)
    assert [(r[0], r[8]) for r in minutes] == [
        (ms(2024, 1, 31, 23, 45), 2),
        (ms(2024, 2, 1), 3),
    ]
    seconds = klines("1s", startTime=ms(2024, 3, 1), limit=5)
    assert [(r[0], r[6]) for r in seconds] == [(ms(2024, 3, 1), ms(2024, 3, 1) + 999)]
    ui = public(
        "uiKlines", {"symbol": "BTCUSDT", "interval": "1M", "startTime": ms(2024, 1, 1)}
    )
    assert [r[0] for r in ui.body] == [JAN[0], FEB[0], MAR[0]]


def test_recent_and_historical_trades(trader):
    seller = trader(BTC="1")
    buyer = trader(USDT="10000")
    for i in range(4):
        assert seller.order(side="SELL", price=str(60000 + i)).status == 200
    assert buyer.order(quantity="0.04", price="60003").status == 200
    recent = public("trades", {"symbol": "BTCUSDT", "limit": 2}).body
    assert [t["id"] for t in recent] == [3, 4]
    assert all(t["isBuyerMaker"] is False for t in recent)
    assert recent[1]["quoteQty"] == "600.03000000"

    def historical(**query):
        body = public("historicalTrades", {"symbol": "BTCUSDT", **query}).body
        return [t["id"] for t in body]

    assert historical() == [1, 2, 3, 4]
    assert historical(limit=3) == [2, 3, 4]
    assert historical(fromId=2) == [2, 3, 4]
    assert historical(fromId=2, limit=2) == [2, 3]
    assert historical(fromId=9) == []


@pytest.fixture
def big_fill_group(symbols):
    """Trade 1 (a small taker), then trades 2-5001: one taker buy order meeting
    5,000 makers at 60000, then trade 5002 (another taker)."""
    buyer, seller = UserFactory(), UserFactory()

    def trade(trade_id, buyer_order, seller_order, price="60000"):
        return Trade(
            symbol_id="BTCUSDT",
            trade_id=trade_id,
            price=Decimal(price),
            qty=Decimal("0.00001"),
            quote_qty=Decimal(price) * Decimal("0.00001"),
            time=1_800_000_000_000,
            buyer=buyer,
            seller=seller,
            buyer_order_id=buyer_order,
            seller_order_id=seller_order,
            is_buyer_maker=False,
        )

    rows = [trade(1, 1, 2, "59999")]
    rows += [trade(i, 100, 1000 + i) for i in range(2, 5002)]
    rows.append(trade(5002, 101, 9000, "60001"))
    Trade.objects.bulk_create(rows, batch_size=1000)


def test_aggregate_trades_over_a_huge_fill_group_stay_whole_and_bounded(
    big_fill_group, django_assert_max_num_queries
):
    """One taker meeting 5,000 makers is one entry, exact, and answering it
    reads a bounded number of rows whatever the group's size."""
    group = (2, "60000.00000000", "0.05000000", 2, 5001, False)
    with django_assert_max_num_queries(12):
        assert _aggregates(limit=2) == [
            group,
            (5002, "60001.00000000", "0.00001000", 5002, 5002, False),
        ]
    assert _aggregates(fromId=1, limit=2) == [
        (1, "59999.00000000", "0.00001000", 1, 1, False),
        group,
    ]
    assert _aggregates(fromId=3, limit=1) == [
        (5002, "60001.00000000", "0.00001000", 5002, 5002, False)
    ]
    assert _aggregates(fromId=2, limit=1) == [group]
    assert _aggregates(startTime=1_800_000_000_000, limit=3)[1] == group
