"""The public /api/v3 endpoints: general (ping, time, exchangeInfo) and market
data (depth, trades, klines, tickers). Each parses Binance's parameters, calls one
selector, and renders Binance's shape."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from accounts.services import asset_decimals
from exchange import errors
from exchange.errors import ExchangeError
from trading.api import representations as rep
from trading.api.base import SYMBOL, BinanceApi, now_ms, query_param
from trading.api.order_params import DEFAULT_STP, STP_MODES
from trading.api.ratelimit import rate_limits_info
from trading.marketdata import selectors as market_selectors
from trading.marketdata.klines import (
    DAY,
    HOUR,
    INTERVALS,
    MINUTE,
    kline_base_rows,
    kline_row,
    klines_list,
)
from trading.symbols import selectors as symbol_selectors
from trading.symbols.specs import (
    DEFAULT_MAX_NOTIONAL,
    MAX_TRAILING_DELTA,
    MIN_TRAILING_DELTA,
)

# --- General ----------------------------------------------------------------------


class PingApi(BinanceApi):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return self.answer({})


class TimeApi(BinanceApi):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return self.answer({"serverTime": now_ms()})


# As Binance lists them in exchangeInfo.
ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]


def _filters(row) -> list[dict]:
    market_max = row.market_max_qty or row.max_qty
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": rep.amount(row.min_price or row.tick_size),
            "maxPrice": rep.amount(row.max_price),
            "tickSize": rep.amount(row.tick_size),
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": rep.amount(row.min_qty),
            "maxQty": rep.amount(row.max_qty),
            "stepSize": rep.amount(row.step_size),
        },
        {
            "filterType": "MARKET_LOT_SIZE",
            "minQty": rep.amount(row.min_qty),
            "maxQty": rep.amount(market_max),
            "stepSize": rep.amount(row.step_size),
        },
        {
            "filterType": "NOTIONAL",
            "minNotional": rep.amount(row.min_notional),
            "applyMinToMarket": True,
            "maxNotional": rep.amount(row.max_notional or DEFAULT_MAX_NOTIONAL),
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": row.max_num_orders},
        {
            "filterType": "TRAILING_DELTA",
            "minTrailingAboveDelta": MIN_TRAILING_DELTA,
            "maxTrailingAboveDelta": MAX_TRAILING_DELTA,
            "minTrailingBelowDelta": MIN_TRAILING_DELTA,
            "maxTrailingBelowDelta": MAX_TRAILING_DELTA,
        },
    ]


class ExchangeInfoApi(BinanceApi):
    weight = 20

    @extend_schema(
        parameters=[
            query_param("symbol"),
            query_param("symbols", description='["A","B"]'),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol(required=False)
        if symbol and "symbols" in self.params:
            raise ExchangeError(
                errors.OPTIONAL_PARAMS_BAD_COMBO,
                "Combination of optional parameters invalid.",
            )
        symbols = [symbol] if symbol else self.params.symbols_list()
        rows = symbol_selectors.symbols_list(symbols)

        return self.answer(
            {
                "timezone": "UTC",
                "serverTime": now_ms(),
                "rateLimits": rate_limits_info(),
                "exchangeFilters": [],
                "symbols": [
                    {
                        "symbol": row.symbol,
                        "status": row.status,
                        "baseAsset": row.base_id,
                        "baseAssetPrecision": asset_decimals(row.base_id),
                        "quoteAsset": row.quote_id,
                        "quotePrecision": asset_decimals(row.quote_id),
                        "quoteAssetPrecision": asset_decimals(row.quote_id),
                        "baseCommissionPrecision": asset_decimals(row.base_id),
                        "quoteCommissionPrecision": asset_decimals(row.quote_id),
                        "orderTypes": ORDER_TYPES,
                        "icebergAllowed": False,
                        "ocoAllowed": True,
                        "otoAllowed": True,
                        "opoAllowed": False,
                        "quoteOrderQtyMarketAllowed": True,
                        "allowTrailingStop": True,
                        "cancelReplaceAllowed": True,
                        "amendAllowed": True,
                        "pegInstructionsAllowed": False,
                        "isSpotTradingAllowed": True,
                        "isMarginTradingAllowed": False,
                        "filters": _filters(row),
                        "permissions": [],
                        "permissionSets": [["SPOT"]],
                        "defaultSelfTradePreventionMode": DEFAULT_STP,
                        "allowedSelfTradePreventionModes": list(STP_MODES),
                    }
                    for row in rows
                ],
            }
        )


# --- Market data --------------------------------------------------------------------


def _depth_weight(limit: int) -> int:
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


class DepthApi(BinanceApi):
    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("limit", OpenApiTypes.INT, description="1-5000"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol()
        limit = min(self.params.integer("limit", default=100, minimum=1), 5000)
        return self.answer(market_selectors.depth_get(symbol=symbol, limit=limit))

    def request_weight(self, request, params):
        try:
            limit = params.integer("limit", default=100) or 100
        except ExchangeError:
            limit = 100
        return _depth_weight(limit)


class TradesApi(BinanceApi):
    weight = 25

    @extend_schema(
        parameters=[SYMBOL, query_param("limit", OpenApiTypes.INT)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol()
        limit = min(self.params.integer("limit", default=500, minimum=1), 1000)
        return self.answer(market_selectors.trades_recent(symbol=symbol, limit=limit))


class HistoricalTradesApi(BinanceApi):
    weight = 25

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("limit", OpenApiTypes.INT),
            query_param("fromId"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol()
        limit = min(self.params.integer("limit", default=500, minimum=1), 1000)
        from_id = self.params.integer("fromId", minimum=0)
        return self.answer(
            market_selectors.trades_historical(
                symbol=symbol, limit=limit, from_id=from_id
            )
        )


class AggTradesApi(BinanceApi):
    weight = 4

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("fromId", OpenApiTypes.INT64),
            query_param("startTime", OpenApiTypes.INT64),
            query_param("endTime", OpenApiTypes.INT64),
            query_param("limit", OpenApiTypes.INT),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        limit = min(p.integer("limit", default=500, minimum=1), 1000)
        start = p.integer("startTime", minimum=0)
        end = p.integer("endTime", minimum=0)
        if start is not None and end is not None and end - start > HOUR:
            raise errors.time_range_too_long(1)
        return self.answer(
            market_selectors.trades_aggregate(
                symbol=symbol,
                limit=limit,
                from_id=p.integer("fromId", minimum=0),
                start_time=start,
                end_time=end,
            )
        )


# No kline opens after this (year 8307); calendar arithmetic on times up to here,
# 1000 months either way, stays within the years a datetime can hold.
KLINE_TIME_MAX = 200_000_000_000_000


# Stored rows a klines request may merge for each unit of weight past the first 2:
# Binance's flat 2 covers a request that reads up to 1,000 rows; 1,000 monthly
# klines from daily rows (31,000 rows) weigh 2 + 31.
KLINE_ROWS_PER_WEIGHT = 1000


def klines_weight(interval: str | None, limit: int) -> int:
    if interval not in INTERVALS:
        return 2
    rows = kline_base_rows(interval, min(max(limit, 1), 1000))
    return 2 + max(0, rows - 1) // KLINE_ROWS_PER_WEIGHT


class KlinesApi(BinanceApi):
    """Weight 2 as on Binance while a request merges at most 1,000 stored rows,
    then one more per 1,000 (coarse intervals are built from finer rows)."""

    weight = 2

    def request_weight(self, request, params):
        try:
            limit = params.integer("limit", default=500) or 500
        except ExchangeError:
            limit = 500
        return klines_weight(params.raw("interval"), limit)

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("interval", required=True, enum=list(INTERVALS)),
            query_param("startTime", OpenApiTypes.INT64),
            query_param("endTime", OpenApiTypes.INT64),
            query_param("timeZone"),
            query_param("limit", OpenApiTypes.INT),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        interval = p.choice(
            "interval",
            INTERVALS,
            required=True,
            code=errors.BAD_INTERVAL,
            message="Invalid interval.",
        )
        if p.raw("timeZone") not in (None, "0", "+0", "0:00", "+00:00"):
            raise errors.invalid_parameter("timeZone")
        limit = min(p.integer("limit", default=500, minimum=1), 1000)
        symbol_selectors.symbol_spec_get(symbol)
        start = p.integer("startTime", minimum=0)
        end = p.integer("endTime", minimum=0)
        if start is not None and start > KLINE_TIME_MAX:
            return self.answer([])
        candles = klines_list(
            symbol=symbol,
            interval=interval,
            start_time=start,
            end_time=None if end is None else min(end, KLINE_TIME_MAX),
            limit=limit,
            now_ms=now_ms(),
        )
        return self.answer([kline_row(interval, c) for c in candles])


class AvgPriceApi(BinanceApi):
    weight = 2

    @extend_schema(parameters=[SYMBOL], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return self.answer(
            market_selectors.avg_price(symbol=self.params.symbol(), now_ms=now_ms())
        )


class _MultiSymbolApi(BinanceApi):
    """Tickers: one symbol gives an object, ``symbols`` or none a list."""

    one_weight = 2
    all_weight = 80

    def request_weight(self, request, params):
        if "symbol" in params:
            return self.one_weight
        try:
            listed = params.symbols_list()
        except ExchangeError:
            listed = None
        if listed is None:
            return self.all_weight
        return self.symbols_weight(len(listed))

    def symbols_weight(self, count: int) -> int:
        return self.all_weight

    def symbols(self) -> tuple[list[str], bool]:
        symbol = self.params.symbol(required=False)
        if symbol is not None:
            if "symbols" in self.params:
                raise ExchangeError(
                    errors.OPTIONAL_PARAMS_BAD_COMBO,
                    "Combination of optional parameters invalid.",
                )
            symbol_selectors.symbol_spec_get(symbol)
            return [symbol], True
        listed = self.params.symbols_list()
        return [row.symbol for row in symbol_selectors.symbols_list(listed)], False

    def render(self, one):
        symbols, single = self.symbols()
        body = [one(symbol) for symbol in symbols]
        return self.answer(body[0] if single else body)


MULTI = [query_param("symbol"), query_param("symbols", description='["A","B"]')]


class Ticker24hrApi(_MultiSymbolApi):
    def symbols_weight(self, count):
        return 2 if count <= 20 else 40 if count <= 100 else 80

    @extend_schema(
        parameters=[*MULTI, query_param("type")], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request):
        mini = self.params.choice("type", ("FULL", "MINI"), default="FULL") == "MINI"
        now = now_ms()

        def one(symbol):
            body = market_selectors.ticker_window(
                symbol=symbol, window_ms=DAY, now_ms=now, full=True
            )
            return _mini(body) if mini else body

        return self.render(one)


def _mini(body: dict) -> dict:
    keep = (
        "symbol",
        "openPrice",
        "highPrice",
        "lowPrice",
        "lastPrice",
        "volume",
        "quoteVolume",
        "openTime",
        "closeTime",
        "firstId",
        "lastId",
        "count",
    )
    return {key: body[key] for key in keep}


class TickerPriceApi(_MultiSymbolApi):
    one_weight, all_weight = 2, 4

    @extend_schema(parameters=MULTI, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return self.render(lambda s: market_selectors.ticker_price(symbol=s))


class BookTickerApi(_MultiSymbolApi):
    one_weight, all_weight = 2, 4

    @extend_schema(parameters=MULTI, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return self.render(lambda s: market_selectors.ticker_book(symbol=s))


def window_size_ms(value: str) -> int:
    """Binance's windowSize: 1m-59m, 1h-23h or 1d-7d."""
    units = {"m": (MINUTE, 59), "h": (HOUR, 23), "d": (DAY, 7)}
    number, unit = value[:-1], value[-1:]
    if unit not in units or not (number.isascii() and number.isdigit()):
        raise errors.invalid_parameter("windowSize")
    size, top = units[unit]
    if not 1 <= int(number) <= top:
        raise errors.invalid_parameter("windowSize")
    return int(number) * size


class TickerApi(_MultiSymbolApi):
    one_weight, all_weight = 4, 200

    def symbols_weight(self, count):
        return min(4 * count, 200)

    @extend_schema(
        parameters=[*MULTI, query_param("windowSize"), query_param("type")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        if "symbol" not in self.params and "symbols" not in self.params:
            raise ExchangeError(
                errors.MANDATORY_PARAM,
                "Param 'symbol' or 'symbols' must be sent, but both were empty/null!",
            )
        window = window_size_ms(self.params.raw("windowSize") or "1d")
        mini = self.params.choice("type", ("FULL", "MINI"), default="FULL") == "MINI"
        now = now_ms()

        def one(symbol):
            body = market_selectors.ticker_window(
                symbol=symbol, window_ms=window, now_ms=now, full=False
            )
            return _mini(body) if mini else body

        return self.render(one)
