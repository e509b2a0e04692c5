"""Reads of the trading app: market data and account history.

Market data comes from the cache when it holds what is asked, else from the
database, with the same answer either way. Account history goes to the read
replica when one is configured.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min, Sum

from trading.marketdata import cache as market_cache
from trading.marketdata.klines import DAY, HOUR, MINUTE, Candle, klines_list
from trading.marketdata.shapes import amount, trade_public
from trading.models import OPEN_STATUSES, STOP_TYPES, Order, Symbol, Trade
from trading.symbols.selectors import symbol_spec_get
from trading.symbols.specs import SymbolSpec

# The columns the trade representations read: lists are built from these rows
# (named tuples) rather than from model instances, which cost more than the query
# on deep histories.
TRADE_FIELDS = (
    "symbol_id",
    "trade_id",
    "price",
    "qty",
    "quote_qty",
    "time",
    "buyer_id",
    "seller_id",
    "buyer_order_id",
    "seller_order_id",
    "is_buyer_maker",
    "buyer_fee",
    "seller_fee",
)


def rows_of(query, fields) -> list:
    return list(query.values_list(*fields, named=True))


# --- Depth --------------------------------------------------------------------------


def depth_get(*, symbol: str, limit: int) -> dict:
    """Binance's depth: ``lastUpdateId`` is the symbol's ``book_seq``."""
    spec = symbol_spec_get(symbol)
    cached = market_cache.load("depth", symbol)
    if cached is not None and limit <= market_cache.DEPTH_LEVELS:
        seq, value = cached
        bids, asks = value["bids"][:limit], value["asks"][:limit]
    else:
        seq, bids, asks = depth_from_database(symbol=symbol, spec=spec, limit=limit)
        if limit >= market_cache.DEPTH_LEVELS:
            market_cache.store_if_newer(
                "depth",
                symbol,
                seq,
                {
                    "bids": bids[: market_cache.DEPTH_LEVELS],
                    "asks": asks[: market_cache.DEPTH_LEVELS],
                },
            )
    return depth_render(spec, seq, bids, asks)


def depth_render(spec: SymbolSpec, seq: int, bids, asks) -> dict:
    tick, step = spec.tick_size, spec.step_size
    return {
        "lastUpdateId": seq,
        "bids": [[amount(p * tick), amount(q * step)] for p, q in bids],
        "asks": [[amount(p * tick), amount(q * step)] for p, q in asks],
    }


def depth_from_database(
    *, symbol: str, spec: SymbolSpec, limit: int
) -> tuple[int, list, list]:
    """(book_seq, bids, asks) in ticks and lots, aggregated from the open orders."""
    tick, step = spec.tick_size, spec.step_size
    if connection.vendor == "postgresql":
        sql = """
            WITH s AS (SELECT book_seq FROM trading_symbol WHERE symbol = %s)
            SELECT (SELECT book_seq FROM s), side, price, SUM(orig_qty - executed_qty)
            FROM trading_order
            WHERE symbol_id = %s AND status IN ('NEW', 'PARTIALLY_FILLED')
              AND NOT (working_time IS NULL AND type IN
                ('STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'))
            GROUP BY side, price
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [symbol, symbol])
            rows = cursor.fetchall()
        seq = rows[0][0] if rows else Symbol.objects.get(symbol=symbol).book_seq
        levels = [(side, price, qty) for _, side, price, qty in rows]
    else:
        seq = Symbol.objects.get(symbol=symbol).book_seq
        totals: dict[tuple[str, Decimal], Decimal] = defaultdict(Decimal)
        for side, price, orig, executed in (
            Order.objects.filter(symbol_id=symbol, status__in=OPEN_STATUSES)
            .exclude(type__in=STOP_TYPES, working_time__isnull=True)
            .values_list("side", "price", "orig_qty", "executed_qty")
        ):
            totals[(side, price)] += orig - executed
        levels = [(side, price, qty) for (side, price), qty in totals.items()]
    bids = sorted(
        ((int(p / tick), int(q / step)) for side, p, q in levels if side == "BUY"),
        reverse=True,
    )[:limit]
    asks = sorted(
        (int(p / tick), int(q / step)) for side, p, q in levels if side == "SELL"
    )[:limit]
    return seq, bids, asks


def book_top(symbol: str) -> tuple[tuple[int, int] | None, tuple[int, int] | None, int]:
    """Best bid and ask (ticks, lots) and the seq they are from."""
    cached = market_cache.load("depth", symbol)
    if cached is None:
        spec = symbol_spec_get(symbol)
        seq, bids, asks = depth_from_database(symbol=symbol, spec=spec, limit=1)
    else:
        seq, value = cached
        bids, asks = value["bids"], value["asks"]
    return (bids[0] if bids else None), (asks[0] if asks else None), seq


# --- Trades -------------------------------------------------------------------------


def trades_recent(*, symbol: str, limit: int) -> list[dict]:
    symbol_spec_get(symbol)
    cached = market_cache.trades_recent(symbol, limit)
    if cached is not None:
        return cached
    query = Trade.objects.filter(symbol_id=symbol).order_by("-trade_id")
    return [trade_public(t) for t in reversed(rows_of(query[:limit], TRADE_FIELDS))]


def trades_historical(*, symbol: str, limit: int, from_id: int | None) -> list[dict]:
    symbol_spec_get(symbol)
    query = Trade.objects.filter(symbol_id=symbol)
    if from_id is None:
        rows = rows_of(query.order_by("-trade_id")[:limit], TRADE_FIELDS)[::-1]
    else:
        query = query.filter(trade_id__gte=from_id).order_by("trade_id")
        rows = rows_of(query[:limit], TRADE_FIELDS)
    return [trade_public(t) for t in rows]


# A taker's fills at one price are one aggTrades entry, however many makers it
# met. Past this many rows of one entry, the rest of it is summed by the
# database (by the taker's order id, indexed) instead of read row by row, so
# that the work per request is bounded whatever the size of a fill group.
GROUP_SCAN_MAX = 64
_AGG_FIELDS = (
    "trade_id",
    "price",
    "qty",
    "time",
    "is_buyer_maker",
    "buyer_order_id",
    "seller_order_id",
)


def trades_aggregate(
    *,
    symbol: str,
    limit: int,
    from_id: int | None,
    start_time: int | None,
    end_time: int | None,
) -> list[dict]:
    """aggTrades: consecutive fills of one taker order at one price are one entry,
    whose id ``a`` is its first trade id. At most ``limit`` entries, never cut in
    two: with ``from_id``, the entries with ``a >= from_id`` (so that paging by the
    last ``a`` + 1 neither repeats nor loses a fill); with a time window, the
    oldest entries in it; otherwise the most recent ones.

    Reads at most about ``limit + 1`` rows plus ``GROUP_SCAN_MAX`` per entry, and
    one indexed aggregate per entry larger than that."""
    symbol_spec_get(symbol)
    query = Trade.objects.filter(symbol_id=symbol)
    newest_first = from_id is None and start_time is None and end_time is None
    skip = None
    if from_id is not None:
        query = query.filter(trade_id__gte=from_id)
        before = (
            Trade.objects.filter(symbol_id=symbol, trade_id=from_id - 1)
            .values_list(*_AGG_FIELDS)
            .first()
        )
        # Trades continuing the entry of trade from_id - 1 belong to an a < from_id.
        skip = _aggregate_key(before) if before is not None else None
    else:
        if start_time is not None:
            query = query.filter(time__gte=start_time)
        if end_time is not None:
            query = query.filter(time__lte=end_time)
    order = "-trade_id" if newest_first else "trade_id"
    past = "trade_id__lt" if newest_first else "trade_id__gt"
    groups: list[dict] = []
    cursor: int | None = None
    chunk = max(limit + 1, GROUP_SCAN_MAX + 1)
    while True:
        page = query if cursor is None else query.filter(**{past: cursor})
        rows = list(page.order_by(order).values_list(*_AGG_FIELDS)[:chunk])
        jumped = full = False
        for row in rows:
            cursor = row[0]
            key = _aggregate_key(row)
            if skip is not None:
                if key == skip:
                    whole = _group_whole(symbol, key)
                    cursor = whole["a"] if newest_first else whole["l"]
                    skip = None
                    jumped = True
                    break
                skip = None
            if groups and groups[-1]["key"] == key:
                group = groups[-1]
                group["a"], group["l"] = (
                    min(group["a"], row[0]),
                    max(group["l"], row[0]),
                )
                if row[0] == group["a"]:
                    group["T"] = row[3]
                group["q"] += row[2]
                group["n"] += 1
                if group["n"] >= GROUP_SCAN_MAX:
                    group.update(_group_whole(symbol, key))
                    cursor = group["a"] if newest_first else group["l"]
                    jumped = True
                    break
            elif len(groups) == limit:
                full = True
                break
            else:
                groups.append(
                    {
                        "key": key,
                        "a": row[0],
                        "l": row[0],
                        "p": row[1],
                        "q": row[2],
                        "T": row[3],
                        "m": row[4],
                        "n": 1,
                    }
                )
        if full or (not jumped and len(rows) < chunk):
            break
    if newest_first:
        groups.reverse()
    return [
        {
            "a": group["a"],
            "p": amount(group["p"]),
            "q": amount(group["q"]),
            "f": group["a"],
            "l": group["l"],
            "T": group["T"],
            "m": group["m"],
            "M": True,
        }
        for group in groups
    ]


def _aggregate_key(row: tuple) -> tuple:
    """(taker order id, is the buyer the maker, price) of a row of _AGG_FIELDS."""
    _, price, _, _, buyer_maker, buyer_order, seller_order = row
    return (seller_order if buyer_maker else buyer_order, buyer_maker, price)


def _group_whole(symbol: str, key: tuple) -> dict:
    """One aggTrades entry, whole, from the database: all fills of the taker
    order at the price (they are consecutive trade ids)."""
    taker, buyer_maker, price = key
    taker_field = "seller_order_id" if buyer_maker else "buyer_order_id"
    fills = Trade.objects.filter(
        symbol_id=symbol,
        is_buyer_maker=buyer_maker,
        price=price,
        **{taker_field: taker},
    )
    found = fills.aggregate(a=Min("trade_id"), l=Max("trade_id"), T=Min("time"))
    if connection.vendor == "postgresql":
        found["q"] = fills.aggregate(q=Sum("qty"))["q"]
    else:
        # SQLite sums NUMERIC columns in floating point: add the decimals here.
        found["q"] = sum(fills.values_list("qty", flat=True), Decimal(0))
    return {**found, "n": GROUP_SCAN_MAX}


def last_trade(symbol: str) -> Trade | None:
    return Trade.objects.filter(symbol_id=symbol).order_by("-trade_id").first()


# --- Tickers ------------------------------------------------------------------------


def window_stats(*, symbol: str, window_ms: int, now_ms: int) -> dict:
    """Rolling-window statistics from the minute klines (the window is aligned to
    whole minutes, as Binance's rolling tickers are)."""
    spec = symbol_spec_get(symbol)
    start = now_ms - window_ms
    interval = "1m" if window_ms <= 2 * DAY else "1h"
    candles = klines_list(
        symbol=symbol,
        interval=interval,
        start_time=start,
        end_time=now_ms,
        limit=window_ms // (MINUTE if interval == "1m" else HOUR) + 1,
        now_ms=now_ms,
    )
    total: Candle | None = None
    for candle in candles:
        if total is None:
            total = Candle(**{n: getattr(candle, n) for n in Candle.__slots__})
        else:
            total.merge(candle)
    zero = Decimal(0)
    if total is None:
        last = last_trade(symbol)
        price = last.price if last else zero
        return {
            "spec": spec,
            "open": price,
            "high": price,
            "low": price,
            "close": price,
            "volume": zero,
            "quote_volume": zero,
            "count": 0,
            "first_id": -1,
            "last_id": -1,
            "open_time": start,
            "close_time": now_ms,
        }
    return {
        "spec": spec,
        "open": total.open,
        "high": total.high,
        "low": total.low,
        "close": total.close,
        "volume": total.volume,
        "quote_volume": total.quote_volume,
        "count": total.trades,
        "first_id": total.first_trade_id,
        "last_id": total.last_trade_id,
        "open_time": start,
        "close_time": now_ms,
    }


def ticker_window(*, symbol: str, window_ms: int, now_ms: int, full: bool) -> dict:
    """``ticker/24hr`` (``full``) or the rolling-window ``ticker``. Cached for a
    second per symbol and window."""
    key = f"ticker:{symbol}:{window_ms}:{int(full)}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    if not full:
        # Binance's rolling window opens on a whole minute, so it may be up to
        # 59,999 ms wider than asked, never narrower.
        window_ms += (now_ms - window_ms) % MINUTE
    stats = window_stats(symbol=symbol, window_ms=window_ms, now_ms=now_ms)
    change = stats["close"] - stats["open"]
    percent = (change / stats["open"] * 100) if stats["open"] else Decimal(0)
    weighted = (
        stats["quote_volume"] / stats["volume"] if stats["volume"] else stats["close"]
    )
    body = {
        "symbol": symbol,
        "priceChange": amount(change),
        "priceChangePercent": f"{percent:.3f}",
        "weightedAvgPrice": amount(weighted),
    }
    if full:
        spec = stats["spec"]
        bid, ask, _ = book_top(symbol)
        last = last_trade(symbol)
        body.update(
            {
                "prevClosePrice": amount(stats["open"]),
                "lastPrice": amount(stats["close"]),
                "lastQty": amount(last.qty if last else 0),
                "bidPrice": amount(bid[0] * spec.tick_size if bid else 0),
                "bidQty": amount(bid[1] * spec.step_size if bid else 0),
                "askPrice": amount(ask[0] * spec.tick_size if ask else 0),
                "askQty": amount(ask[1] * spec.step_size if ask else 0),
            }
        )
    body["openPrice"] = amount(stats["open"])
    body["highPrice"] = amount(stats["high"])
    body["lowPrice"] = amount(stats["low"])
    if not full:
        # The rolling-window ticker has lastPrice here, as on Binance.
        body["lastPrice"] = amount(stats["close"])
    body.update(
        {
            "volume": amount(stats["volume"]),
            "quoteVolume": amount(stats["quote_volume"]),
            "openTime": stats["open_time"],
            "closeTime": stats["close_time"],
            "firstId": stats["first_id"],
            "lastId": stats["last_id"],
            "count": stats["count"],
        }
    )
    cache.set(key, body, 1)
    return body


def ticker_price(*, symbol: str) -> dict:
    last = last_trade(symbol)
    return {"symbol": symbol, "price": amount(last.price if last else 0)}


def ticker_book(*, symbol: str) -> dict:
    spec = symbol_spec_get(symbol)
    bid, ask, _ = book_top(symbol)
    return {
        "symbol": symbol,
        "bidPrice": amount(bid[0] * spec.tick_size if bid else 0),
        "bidQty": amount(bid[1] * spec.step_size if bid else 0),
        "askPrice": amount(ask[0] * spec.tick_size if ask else 0),
        "askQty": amount(ask[1] * spec.step_size if ask else 0),
    }


def avg_price(*, symbol: str, now_ms: int, minutes: int = 5) -> dict:
    stats = window_stats(symbol=symbol, window_ms=minutes * MINUTE, now_ms=now_ms)
    price = (
        stats["quote_volume"] / stats["volume"] if stats["volume"] else stats["close"]
    )
    last = last_trade(symbol)
    return {
        "mins": minutes,
        "price": amount(price),
        "closeTime": last.time if last else now_ms,
    }
