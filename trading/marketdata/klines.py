"""Klines: kept up to date as trades happen, combined into any Binance interval on
read."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection

from exchange.db import prepared_read
from trading.marketdata.shapes import amount
from trading.models import Kline

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
# Binance's weeks start on Monday; the epoch was a Thursday.
WEEK_OFFSET = 4 * DAY

# The intervals kept as trades happen.
BASE_INTERVALS = {"1s": SECOND, "1m": MINUTE, "1h": HOUR, "1d": DAY}

# Every Binance interval: (length in ms, or None for a calendar month; base kept).
INTERVALS: dict[str, tuple[int | None, str]] = {
    "1s": (SECOND, "1s"),
    "1m": (MINUTE, "1m"),
    "3m": (3 * MINUTE, "1m"),
    "5m": (5 * MINUTE, "1m"),
    "15m": (15 * MINUTE, "1m"),
    "30m": (30 * MINUTE, "1m"),
    "1h": (HOUR, "1h"),
    "2h": (2 * HOUR, "1h"),
    "4h": (4 * HOUR, "1h"),
    "6h": (6 * HOUR, "1h"),
    "8h": (8 * HOUR, "1h"),
    "12h": (12 * HOUR, "1h"),
    "1d": (DAY, "1d"),
    "3d": (3 * DAY, "1d"),
    "1w": (WEEK, "1d"),
    "1M": (None, "1d"),
}


def kline_base_rows(interval: str, limit: int) -> int:
    """How many stored rows (of the interval's base) ``limit`` klines of
    ``interval`` may merge: what a klines request costs."""
    length, base = INTERVALS[interval]
    per_kline = (length if length is not None else 31 * DAY) // BASE_INTERVALS[base]
    return per_kline * limit


def bucket_start(interval: str, ms: int) -> int:
    """The open time of the ``interval`` kline that contains ``ms``."""
    length, _ = INTERVALS[interval]
    if length is None:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
        return int(
            datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000
        )
    if length == WEEK:
        return (ms - WEEK_OFFSET) // WEEK * WEEK + WEEK_OFFSET
    return ms // length * length


def bucket_end(interval: str, start: int) -> int:
    """The close time (inclusive, ms) of the kline opened at ``start``."""
    length, _ = INTERVALS[interval]
    if length is None:
        moment = datetime.fromtimestamp(start / 1000, tz=UTC)
        days = calendar.monthrange(moment.year, moment.month)[1]
        return start + days * DAY - 1
    return start + length - 1


@dataclass(slots=True)
class Candle:
    open_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_buy_base: Decimal
    taker_buy_quote: Decimal
    first_trade_id: int
    last_trade_id: int

    def merge(self, other: Candle) -> None:
        """Add a later candle of the same bucket."""
        self.high = max(self.high, other.high)
        self.low = min(self.low, other.low)
        self.close = other.close
        self.volume += other.volume
        self.quote_volume += other.quote_volume
        self.trades += other.trades
        self.taker_buy_base += other.taker_buy_base
        self.taker_buy_quote += other.taker_buy_quote
        self.last_trade_id = other.last_trade_id


def candle_from_trades(trades, time_ms: int, buying_taker: bool) -> Candle:
    """One order's trades (same time, in order) as a candle."""
    prices = [t.price for t in trades]
    volume = sum((t.qty for t in trades), Decimal(0))
    quote = sum((t.quote_qty for t in trades), Decimal(0))
    return Candle(
        open_time=time_ms,
        open=prices[0],
        high=max(prices),
        low=min(prices),
        close=prices[-1],
        volume=volume,
        quote_volume=quote,
        trades=len(trades),
        taker_buy_base=volume if buying_taker else Decimal(0),
        taker_buy_quote=quote if buying_taker else Decimal(0),
        first_trade_id=trades[0].trade_id,
        last_trade_id=trades[-1].trade_id,
    )


KLINE_UPSERT = """
INSERT INTO trading_kline (symbol_id, interval, open_time, open, high, low, close,
    volume, quote_volume, trades, taker_buy_base, taker_buy_quote,
    first_trade_id, last_trade_id)
VALUES (%s, %s, %s::bigint, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::bigint, %s::bigint)
ON CONFLICT (symbol_id, interval, open_time) DO UPDATE SET
    high = GREATEST(trading_kline.high, EXCLUDED.high),
    low = LEAST(trading_kline.low, EXCLUDED.low),
    close = EXCLUDED.close,
    volume = trading_kline.volume + EXCLUDED.volume,
    quote_volume = trading_kline.quote_volume + EXCLUDED.quote_volume,
    trades = trading_kline.trades + EXCLUDED.trades,
    taker_buy_base = trading_kline.taker_buy_base + EXCLUDED.taker_buy_base,
    taker_buy_quote = trading_kline.taker_buy_quote + EXCLUDED.taker_buy_quote,
    last_trade_id = EXCLUDED.last_trade_id
"""


def kline_rows(symbol: str, candle: Candle) -> list[tuple]:
    """Parameters of :data:`KLINE_UPSERT` adding ``candle`` to every base interval."""
    c = candle
    return [
        (
            symbol,
            interval,
            bucket_start(interval, c.open_time),
            c.open,
            c.high,
            c.low,
            c.close,
            c.volume,
            c.quote_volume,
            c.trades,
            c.taker_buy_base,
            c.taker_buy_quote,
            c.first_trade_id,
            c.last_trade_id,
        )
        for interval in BASE_INTERVALS
    ]


def klines_record(*, symbol: str, candle: Candle) -> None:
    """Add one order's trades to every base interval. Caller holds the pair lock, so
    trades arrive in order and ``close`` is simply the latest price."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.executemany(KLINE_UPSERT, kline_rows(symbol, candle))
        return
    # SQLite: writes are serialised, and exact decimal sums need Python.
    for interval in BASE_INTERVALS:
        start = bucket_start(interval, candle.open_time)
        existing = Kline.objects.filter(
            symbol_id=symbol, interval=interval, open_time=start
        ).first()
        if existing is None:
            fields = {k: v for k, v in vars_of(candle).items() if k != "open_time"}
            Kline.objects.create(
                symbol_id=symbol, interval=interval, open_time=start, **fields
            )
            continue
        current = candle_of(existing)
        current.merge(candle)
        for name, value in vars_of(current).items():
            if name != "open_time":
                setattr(existing, name, value)
        existing.save()


def vars_of(candle: Candle) -> dict:
    return {name: getattr(candle, name) for name in Candle.__slots__}


def candle_of(row: Kline) -> Candle:
    return Candle(**{name: getattr(row, name) for name in Candle.__slots__})


def bucket_shift(interval: str, start: int, count: int) -> int:
    """The open time ``count`` klines after (or before) the one opened at ``start``."""
    length, _ = INTERVALS[interval]
    if length is not None:
        return start + count * length
    moment = datetime.fromtimestamp(start / 1000, tz=UTC)
    months = moment.year * 12 + moment.month - 1 + count
    year, month = divmod(months, 12)
    return int(datetime(year, month + 1, 1, tzinfo=UTC).timestamp() * 1000)


KLINES_SQL = (
    f"SELECT {', '.join(Candle.__slots__)} FROM trading_kline "  # noqa: S608 - names
    "WHERE symbol_id = %s AND interval = %s "
    "AND open_time >= %s::bigint AND open_time <= %s::bigint ORDER BY open_time"
)


def klines_list(
    *,
    symbol: str,
    interval: str,
    start_time: int | None,
    end_time: int | None,
    limit: int,
    now_ms: int,
) -> list[Candle]:
    """Klines of any Binance interval, oldest first, combined from a base interval.

    Binance's rules: klines whose open time is within [startTime, endTime]; with a
    start time, the first ``limit`` of them, otherwise the last ``limit``.
    """
    _, base = INTERVALS[interval]
    if start_time is not None:
        first = bucket_start(interval, start_time)
        if first < start_time:
            first = bucket_shift(interval, first, 1)
        last = bucket_shift(interval, first, limit - 1)
        if end_time is not None:
            last = min(last, bucket_start(interval, end_time))
    else:
        last = bucket_start(interval, end_time if end_time is not None else now_ms)
        first = bucket_shift(interval, last, -(limit - 1))
    # Candles straight from the rows' values: a day of minutes is 1,440 rows, and
    # a model instance for each cost more than the query. On PostgreSQL, one
    # prepared statement (klines are a frequent public read).
    bounds = (symbol, base, first, bucket_end(interval, last))
    if connection.vendor == "postgresql":
        rows = prepared_read(KLINES_SQL, bounds, tuple)
    else:
        rows = (
            Kline.objects.filter(
                symbol_id=symbol,
                interval=base,
                open_time__gte=first,
                open_time__lte=bounds[3],
            )
            .order_by("open_time")
            .values_list(*Candle.__slots__)
        )
    combined: list[Candle] = []
    for row in rows:
        candle = Candle(*row)
        candle.open_time = bucket_start(interval, candle.open_time)
        if combined and combined[-1].open_time == candle.open_time:
            combined[-1].merge(candle)
        else:
            combined.append(candle)
    return combined


def kline_row(interval: str, candle: Candle) -> list:
    """Binance's kline array."""
    return [
        candle.open_time,
        amount(candle.open),
        amount(candle.high),
        amount(candle.low),
        amount(candle.close),
        amount(candle.volume),
        bucket_end(interval, candle.open_time),
        amount(candle.quote_volume),
        candle.trades,
        amount(candle.taker_buy_base),
        amount(candle.taker_buy_quote),
        "0",
    ]
