"""The /api/v3 endpoints, compatible with Binance's Spot REST API.

Each view parses Binance parameters, calls one service or selector, and renders
Binance's shape. Refusals are ExchangeErrors rendered by the one handler.
"""

from __future__ import annotations

import time
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import APIException
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import SIGNED_AUTHENTICATION, CanRead, CanTrade, client_ip
from exchange import errors
from exchange.errors import ExchangeError
from trading import representations as rep
from trading import selectors, services
from trading.klines import DAY, HOUR, INTERVALS, MINUTE, kline_row, klines_list
from trading.order_params import DEFAULT_STP, STP_MODES, order_request_parse
from trading.params import Params
from trading.ratelimit import order_counts, rate_limit_check
from trading.specs import DEFAULT_MAX_NOTIONAL


def now_ms() -> int:
    return int(time.time() * 1000)


def _param(name: str, kind=OpenApiTypes.STR, required: bool = False, **kw):
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, required=required, **kw)


SIGNED_PARAMS = [
    _param("timestamp", OpenApiTypes.INT64, description="ms; with an API key"),
    _param("recvWindow", OpenApiTypes.INT64),
    _param("signature", description="hex HMAC-SHA256; with an API key"),
]
SYMBOL = _param("symbol", required=True)


class JsonOnly(BaseContentNegotiation):
    """Binance answers JSON whatever the Accept header says; skipping the media-type
    matching also spares every request parsing that header."""

    def select_parser(self, request, parsers):
        content_type = request.content_type or ""
        for parser in parsers:
            if content_type.startswith(parser.media_type):
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class BinanceApi(APIView):
    """Public by default; counts request weight per IP."""

    content_negotiation_class = JsonOnly
    authentication_classes: list = []
    permission_classes = [AllowAny]
    weight = 1
    counts_orders = False

    def request_weight(self, request, params: Params) -> int:
        return self.weight

    def initial(self, request, *args, **kwargs):
        try:
            super().initial(request, *args, **kwargs)
            self.params = Params.from_request(request)
        except (ExchangeError, APIException):
            self.count_refused(request)
            raise
        user = getattr(request, "user", None)
        self.rate_headers = rate_limit_check(
            ip=client_ip(request),
            weight=self.request_weight(request, self.params),
            user_id=user.id if user is not None and self.counts_orders else None,
            order=self.counts_orders and request.method == "POST",
        )

    def count_refused(self, request) -> None:
        """A request refused before it ran (bad key, signature, timestamp or
        parameters) still uses its weight, so that guessing is limited like any
        other traffic; past the limit the refusal becomes a 429."""
        try:
            weight = self.request_weight(request, Params.from_request(request))
        except ExchangeError:
            weight = self.weight
        self.rate_headers = rate_limit_check(
            ip=client_ip(request), weight=weight, user_id=None, order=False
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for name, value in getattr(self, "rate_headers", {}).items():
            response[name] = value
        return response


class SignedReadApi(BinanceApi):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanRead]


class SignedTradeApi(BinanceApi):
    authentication_classes = SIGNED_AUTHENTICATION
    permission_classes = [CanTrade]


# --- General ----------------------------------------------------------------------


class PingApi(BinanceApi):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({})


class TimeApi(BinanceApi):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"serverTime": now_ms()})


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
            "applyMinToMarket": False,
            "maxNotional": rep.amount(row.max_notional or DEFAULT_MAX_NOTIONAL),
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        },
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": row.max_num_orders},
    ]


def rate_limits_info() -> list[dict]:
    from django.conf import settings

    limits = settings.RATE_LIMITS
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": limits["weight_per_minute"],
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": limits["orders_per_10s"],
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "DAY",
            "intervalNum": 1,
            "limit": limits["orders_per_day"],
        },
    ]


class ExchangeInfoApi(BinanceApi):
    weight = 20

    @extend_schema(
        parameters=[_param("symbol"), _param("symbols", description='["A","B"]')],
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
        rows = selectors.symbols_list(symbols)
        from accounts.services import asset_decimals

        return Response(
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
                        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
                        "icebergAllowed": False,
                        "ocoAllowed": False,
                        "otoAllowed": False,
                        "opoAllowed": False,
                        "quoteOrderQtyMarketAllowed": True,
                        "allowTrailingStop": False,
                        "cancelReplaceAllowed": True,
                        "amendAllowed": False,
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
        parameters=[SYMBOL, _param("limit", OpenApiTypes.INT, description="1-5000")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol()
        limit = min(self.params.integer("limit", default=100, minimum=1), 5000)
        return Response(selectors.depth_get(symbol=symbol, limit=limit))

    def request_weight(self, request, params):
        try:
            limit = params.integer("limit", default=100) or 100
        except ExchangeError:
            limit = 100
        return _depth_weight(limit)


class TradesApi(BinanceApi):
    weight = 25

    @extend_schema(
        parameters=[SYMBOL, _param("limit", OpenApiTypes.INT)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol()
        limit = min(self.params.integer("limit", default=500, minimum=1), 1000)
        return Response(selectors.trades_recent(symbol=symbol, limit=limit))


class HistoricalTradesApi(BinanceApi):
    weight = 25

    @extend_schema(
        parameters=[SYMBOL, _param("limit", OpenApiTypes.INT), _param("fromId")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol()
        limit = min(self.params.integer("limit", default=500, minimum=1), 1000)
        from_id = self.params.integer("fromId", minimum=0)
        return Response(
            selectors.trades_historical(symbol=symbol, limit=limit, from_id=from_id)
        )


class AggTradesApi(BinanceApi):
    weight = 4

    @extend_schema(
        parameters=[
            SYMBOL,
            _param("fromId", OpenApiTypes.INT64),
            _param("startTime", OpenApiTypes.INT64),
            _param("endTime", OpenApiTypes.INT64),
            _param("limit", OpenApiTypes.INT),
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
            raise ExchangeError(
                -1127, "More than 1 hours between startTime and endTime."
            )
        return Response(
            selectors.trades_aggregate(
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


class KlinesApi(BinanceApi):
    weight = 2

    @extend_schema(
        parameters=[
            SYMBOL,
            _param("interval", required=True, enum=list(INTERVALS)),
            _param("startTime", OpenApiTypes.INT64),
            _param("endTime", OpenApiTypes.INT64),
            _param("timeZone"),
            _param("limit", OpenApiTypes.INT),
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
        selectors.symbol_spec_get(symbol)
        start = p.integer("startTime", minimum=0)
        end = p.integer("endTime", minimum=0)
        if start is not None and start > KLINE_TIME_MAX:
            return Response([])
        candles = klines_list(
            symbol=symbol,
            interval=interval,
            start_time=start,
            end_time=None if end is None else min(end, KLINE_TIME_MAX),
            limit=limit,
            now_ms=now_ms(),
        )
        return Response([kline_row(interval, c) for c in candles])


class AvgPriceApi(BinanceApi):
    weight = 2

    @extend_schema(parameters=[SYMBOL], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(
            selectors.avg_price(symbol=self.params.symbol(), now_ms=now_ms())
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
            selectors.symbol_spec_get(symbol)
            return [symbol], True
        listed = self.params.symbols_list()
        return [row.symbol for row in selectors.symbols_list(listed)], False

    def render(self, one):
        symbols, single = self.symbols()
        body = [one(symbol) for symbol in symbols]
        return Response(body[0] if single else body)


MULTI = [_param("symbol"), _param("symbols", description='["A","B"]')]


class Ticker24hrApi(_MultiSymbolApi):
    def symbols_weight(self, count):
        return 2 if count <= 20 else 40 if count <= 100 else 80

    @extend_schema(
        parameters=[*MULTI, _param("type")], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request):
        mini = self.params.choice("type", ("FULL", "MINI"), default="FULL") == "MINI"
        now = now_ms()

        def one(symbol):
            body = selectors.ticker_window(
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
        return self.render(lambda s: selectors.ticker_price(symbol=s))


class BookTickerApi(_MultiSymbolApi):
    one_weight, all_weight = 2, 4

    @extend_schema(parameters=MULTI, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return self.render(lambda s: selectors.ticker_book(symbol=s))


def window_size_ms(value: str) -> int:
    """Binance's windowSize: 1m-59m, 1h-23h or 1d-7d."""
    units = {"m": (MINUTE, 59), "h": (HOUR, 23), "d": (DAY, 7)}
    number, unit = value[:-1], value[-1:]
    if unit not in units or not number.isdigit():
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
        parameters=[*MULTI, _param("windowSize"), _param("type")],
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
            body = selectors.ticker_window(
                symbol=symbol, window_ms=window, now_ms=now, full=False
            )
            return _mini(body) if mini else body

        return self.render(one)


# --- Trading ------------------------------------------------------------------------

ORDER_PARAMS = [
    SYMBOL,
    _param("side", required=True, enum=["BUY", "SELL"]),
    _param("type", required=True, enum=["LIMIT", "MARKET", "LIMIT_MAKER"]),
    _param("timeInForce", enum=["GTC", "IOC", "FOK"]),
    _param("quantity"),
    _param("quoteOrderQty"),
    _param("price"),
    _param("newClientOrderId"),
    _param("selfTradePreventionMode", enum=list(STP_MODES)),
    _param("newOrderRespType", enum=["ACK", "RESULT", "FULL"]),
    *SIGNED_PARAMS,
]
ORDER_LOOKUP = [
    SYMBOL,
    _param("orderId", OpenApiTypes.INT64),
    _param("origClientOrderId"),
]


# Binance's cancelRestrictions, and the status each allows cancelling.
CANCEL_RESTRICTIONS = {"ONLY_NEW": "NEW", "ONLY_PARTIALLY_FILLED": "PARTIALLY_FILLED"}


def render_placement(placement: services.Placement, response_type: str) -> dict:
    if response_type == "ACK":
        return rep.order_ack(placement.order)
    if response_type == "RESULT":
        return rep.order_result(placement.order)
    return rep.order_full(placement.order, placement.fills)


def order_lookup(params: Params) -> tuple[int | None, str | None]:
    order_id = params.integer("orderId", minimum=0)
    orig = params.client_order_id("origClientOrderId")
    if order_id is None and orig is None:
        raise ExchangeError(
            errors.MANDATORY_PARAM,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
            "empty/null!",
        )
    return order_id, orig


def cancel_response(order, params: Params) -> dict:
    new_id = (
        params.client_order_id("newClientOrderId") or services.client_order_id_new()
    )
    return rep.order_cancelled(order, order.client_order_id, new_id)


class OrderApi(SignedTradeApi):
    counts_orders = True

    def request_weight(self, request, params):
        return 4 if request.method == "GET" else 1

    def get_permissions(self):
        if self.request.method == "GET":
            return [CanRead()]
        return super().get_permissions()

    @extend_schema(
        parameters=ORDER_PARAMS, request=None, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request):
        order_request, response_type = order_request_parse(self.params)
        placement = services.order_place(user_id=request.user.id, request=order_request)
        return Response(render_placement(placement, response_type))

    @extend_schema(
        parameters=[*ORDER_LOOKUP, *SIGNED_PARAMS], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request):
        symbol = self.params.symbol()
        order_id, orig = order_lookup(self.params)
        order = selectors.order_get(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig,
        )
        if order is None:
            selectors.symbol_spec_get(symbol)
            raise ExchangeError(errors.NO_SUCH_ORDER, "Order does not exist.", 400)
        return Response(rep.order_query(order))

    @extend_schema(
        parameters=[
            *ORDER_LOOKUP,
            _param("newClientOrderId"),
            _param("cancelRestrictions", enum=list(CANCEL_RESTRICTIONS)),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def delete(self, request):
        symbol = self.params.symbol()
        order_id, orig = order_lookup(self.params)
        restriction = self.params.choice(
            "cancelRestrictions",
            CANCEL_RESTRICTIONS,
            code=-1145,
            message="cancelRestrictions has to be either ONLY_NEW or "
            "ONLY_PARTIALLY_FILLED.",
        )
        order = services.order_cancel(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig,
            only_status=CANCEL_RESTRICTIONS.get(restriction),
        )
        return Response(cancel_response(order, self.params))


class OrderTestApi(SignedTradeApi):
    def request_weight(self, request, params):
        return 20 if params.raw("computeCommissionRates") == "true" else 1

    @extend_schema(
        parameters=[*ORDER_PARAMS, _param("computeCommissionRates", OpenApiTypes.BOOL)],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        order_request, _ = order_request_parse(self.params)
        spec = services.order_validate(request=order_request)
        compute = self.params.choice(
            "computeCommissionRates", ("true", "false"), default="false"
        )
        if compute == "false":
            return Response({})
        zero = rep.amount(0)
        return Response(
            {
                "standardCommissionForOrder": {
                    "maker": rep.amount(spec.maker_fee),
                    "taker": rep.amount(spec.taker_fee),
                },
                "specialCommissionForOrder": {"maker": zero, "taker": zero},
                "taxCommissionForOrder": {"maker": zero, "taker": zero},
                "discount": {
                    "enabledForAccount": False,
                    "enabledForSymbol": False,
                    "discountAsset": None,
                    "discount": zero,
                },
            }
        )


class CancelReplaceApi(SignedTradeApi):
    counts_orders = True

    @extend_schema(
        parameters=[
            *ORDER_PARAMS,
            _param(
                "cancelReplaceMode",
                required=True,
                enum=["STOP_ON_FAILURE", "ALLOW_FAILURE"],
            ),
            _param("cancelOrderId", OpenApiTypes.INT64),
            _param("cancelOrigClientOrderId"),
            _param("cancelNewClientOrderId"),
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        p = self.params
        mode = p.choice(
            "cancelReplaceMode", ("STOP_ON_FAILURE", "ALLOW_FAILURE"), required=True
        )
        cancel_id = p.integer("cancelOrderId", minimum=0)
        cancel_orig = p.client_order_id("cancelOrigClientOrderId")
        if cancel_id is None and cancel_orig is None:
            raise ExchangeError(
                errors.MANDATORY_PARAM,
                "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but "
                "both were empty/null!",
            )
        order_request, response_type = order_request_parse(p)
        outcome = services.order_cancel_replace(
            user_id=request.user.id,
            symbol=order_request.symbol,
            cancel_order_id=cancel_id,
            cancel_orig_client_order_id=cancel_orig,
            request=order_request,
            stop_on_failure=mode == "STOP_ON_FAILURE",
        )
        cancel_new_id = p.client_order_id("cancelNewClientOrderId") or (
            services.client_order_id_new()
        )
        body = {
            "cancelResult": "SUCCESS" if outcome.cancelled else "FAILURE",
            "newOrderResult": (
                "SUCCESS"
                if outcome.placement
                else ("NOT_ATTEMPTED" if outcome.place_error is None else "FAILURE")
            ),
            "cancelResponse": (
                rep.order_cancelled(
                    outcome.cancelled, outcome.cancelled.client_order_id, cancel_new_id
                )
                if outcome.cancelled
                else outcome.cancel_error.as_dict()
            ),
            "newOrderResponse": (
                render_placement(outcome.placement, response_type)
                if outcome.placement
                else (outcome.place_error.as_dict() if outcome.place_error else None)
            ),
        }
        if outcome.cancelled and outcome.placement:
            return Response(body)
        if outcome.cancelled or outcome.placement:
            code, msg, status = -2021, "Order cancel-replace partially failed.", 409
        else:
            code, msg, status = -2022, "Order cancel-replace failed.", 400
        return Response({"code": code, "msg": msg, "data": body}, status=status)


class OpenOrdersApi(SignedTradeApi):
    def get_permissions(self):
        if self.request.method == "GET":
            return [CanRead()]
        return super().get_permissions()

    def request_weight(self, request, params):
        if request.method == "DELETE":
            return 1
        return 6 if "symbol" in params else 80

    @extend_schema(
        parameters=[_param("symbol"), *SIGNED_PARAMS],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol(required=False)
        if symbol is not None:
            selectors.symbol_spec_get(symbol)
        orders = selectors.orders_open(user_id=request.user.id, symbol=symbol)
        return Response([rep.order_listed(o) for o in orders])

    @extend_schema(
        parameters=[SYMBOL, *SIGNED_PARAMS], responses={200: OpenApiTypes.OBJECT}
    )
    def delete(self, request):
        symbol = self.params.symbol()
        selectors.symbol_spec_get(symbol)
        orders = services.order_cancel_all(user_id=request.user.id, symbol=symbol)
        if not orders:
            raise ExchangeError(errors.CANCEL_REJECTED, "Unknown order sent.")
        cancel_id = services.client_order_id_new()
        return Response(
            [rep.order_cancelled(o, o.client_order_id, cancel_id) for o in orders]
        )


class AllOrdersApi(SignedReadApi):
    weight = 20

    @extend_schema(
        parameters=[
            SYMBOL,
            _param("orderId", OpenApiTypes.INT64),
            _param("startTime", OpenApiTypes.INT64),
            _param("endTime", OpenApiTypes.INT64),
            _param("limit", OpenApiTypes.INT),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        selectors.symbol_spec_get(symbol)
        start, end = _time_window(p)
        orders = selectors.orders_all(
            user_id=request.user.id,
            symbol=symbol,
            order_id=p.integer("orderId", minimum=0),
            start_time=start,
            end_time=end,
            limit=min(p.integer("limit", default=500, minimum=1), 1000),
        )
        return Response([rep.order_listed(o) for o in orders])


def _time_window(p: Params) -> tuple[int | None, int | None]:
    start = p.integer("startTime", minimum=0)
    end = p.integer("endTime", minimum=0)
    if start is not None and end is not None:
        if end < start:
            raise errors.invalid_parameter("endTime")
        if end - start > DAY:
            raise ExchangeError(
                -1127, "More than 24 hours between startTime and endTime."
            )
    return start, end


class MyTradesApi(SignedReadApi):
    def request_weight(self, request, params):
        return 5 if "orderId" in params else 20

    @extend_schema(
        parameters=[
            SYMBOL,
            _param("orderId", OpenApiTypes.INT64),
            _param("startTime", OpenApiTypes.INT64),
            _param("endTime", OpenApiTypes.INT64),
            _param("fromId", OpenApiTypes.INT64),
            _param("limit", OpenApiTypes.INT),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        spec = selectors.symbol_spec_get(symbol)
        order_id = p.integer("orderId", minimum=0)
        from_id = p.integer("fromId", minimum=0)
        start, end = _time_window(p)
        if from_id is not None and (start is not None or end is not None):
            raise ExchangeError(
                errors.OPTIONAL_PARAMS_BAD_COMBO,
                "Combination of optional parameters invalid.",
            )
        trades = selectors.trades_mine(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            start_time=start,
            end_time=end,
            from_id=from_id,
            limit=min(p.integer("limit", default=500, minimum=1), 1000),
        )
        body = []
        for trade in trades:
            body += rep.trade_mine(trade, request.user.id, spec.base, spec.quote)
        return Response(body)


class AccountApi(SignedReadApi):
    weight = 20

    @extend_schema(
        parameters=[_param("omitZeroBalances", OpenApiTypes.BOOL), *SIGNED_PARAMS],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        omit = self.params.choice(
            "omitZeroBalances", ("true", "false"), default="false"
        )
        account = selectors.account_get(
            user_id=request.user.id, omit_zero=omit == "true"
        )
        # Account-level rates in basis points; symbols may set their own.
        maker, taker = 10, 10
        trade_allowed = request.auth is None or getattr(request.auth, "can_trade", True)
        return Response(
            {
                "makerCommission": maker,
                "takerCommission": taker,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": rep.amount(Decimal(maker) / 10000),
                    "taker": rep.amount(Decimal(taker) / 10000),
                    "buyer": rep.amount(0),
                    "seller": rep.amount(0),
                },
                "canTrade": bool(trade_allowed),
                "canWithdraw": False,
                "canDeposit": False,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": now_ms(),
                "accountType": "SPOT",
                "balances": account["balances"],
                "permissions": ["SPOT"],
                "uid": request.user.id,
            }
        )


class RateLimitOrderApi(SignedReadApi):
    weight = 40

    @extend_schema(parameters=SIGNED_PARAMS, responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        ten_seconds, day = order_counts(user_id=request.user.id)
        limits = rate_limits_info()
        return Response(
            [
                {**limits[1], "count": ten_seconds},
                {**limits[2], "count": day},
            ]
        )
