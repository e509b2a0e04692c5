"""The signed /api/v3 endpoints: orders (place, test, query, cancel,
cancel-replace, open orders, history), trades and the account. Each parses
Binance's parameters, calls one service or selector, and renders Binance's
shape."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema

from accounts.authentication import CanRead
from exchange import errors
from exchange.errors import ExchangeError
from trading.api import representations as rep
from trading.api.base import (
    SIGNED_PARAMS,
    SYMBOL,
    SignedReadApi,
    SignedTradeApi,
    now_ms,
    query_param,
)
from trading.api.order_params import STP_MODES, order_request_parse
from trading.api.params import Params
from trading.api.ratelimit import order_counts, rate_limits_info
from trading.marketdata.klines import (
    DAY,
)
from trading.orders import selectors as order_selectors
from trading.orders import services as order_services
from trading.orders import types as order_types
from trading.symbols import selectors as symbol_selectors

# --- Trading ------------------------------------------------------------------------

ORDER_PARAMS = [
    SYMBOL,
    query_param("side", required=True, enum=["BUY", "SELL"]),
    query_param("type", required=True, enum=["LIMIT", "MARKET", "LIMIT_MAKER"]),
    query_param("timeInForce", enum=["GTC", "IOC", "FOK"]),
    query_param("quantity"),
    query_param("quoteOrderQty"),
    query_param("price"),
    query_param("newClientOrderId"),
    query_param("selfTradePreventionMode", enum=list(STP_MODES)),
    query_param("newOrderRespType", enum=["ACK", "RESULT", "FULL"]),
    *SIGNED_PARAMS,
]
ORDER_LOOKUP = [
    SYMBOL,
    query_param("orderId", OpenApiTypes.INT64),
    query_param("origClientOrderId"),
]


# Binance's cancelRestrictions, and the status each allows cancelling.
CANCEL_RESTRICTIONS = {"ONLY_NEW": "NEW", "ONLY_PARTIALLY_FILLED": "PARTIALLY_FILLED"}


def render_placement(placement: order_types.Placement, response_type: str) -> dict:
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
        params.client_order_id("newClientOrderId")
        or order_services.client_order_id_new()
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
        placement = order_services.order_place(
            user_id=request.user.id, request=order_request
        )
        return self.answer(render_placement(placement, response_type))

    @extend_schema(
        parameters=[*ORDER_LOOKUP, *SIGNED_PARAMS], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request):
        symbol = self.params.symbol()
        order_id, orig = order_lookup(self.params)
        order = order_selectors.order_get(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig,
        )
        if order is None:
            symbol_selectors.symbol_spec_get(symbol)
            raise ExchangeError(errors.NO_SUCH_ORDER, "Order does not exist.", 400)
        return self.answer(rep.order_query(order))

    @extend_schema(
        parameters=[
            *ORDER_LOOKUP,
            query_param("newClientOrderId"),
            query_param("cancelRestrictions", enum=list(CANCEL_RESTRICTIONS)),
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
            code=errors.INVALID_CANCEL_RESTRICTIONS,
            message="cancelRestrictions has to be either ONLY_NEW or "
            "ONLY_PARTIALLY_FILLED.",
        )
        order = order_services.order_cancel(
            user_id=request.user.id,
            symbol=symbol,
            order_id=order_id,
            orig_client_order_id=orig,
            only_status=CANCEL_RESTRICTIONS.get(restriction),
        )
        return self.answer(cancel_response(order, self.params))


class OrderTestApi(SignedTradeApi):
    def request_weight(self, request, params):
        return 20 if params.raw("computeCommissionRates") == "true" else 1

    @extend_schema(
        parameters=[
            *ORDER_PARAMS,
            query_param("computeCommissionRates", OpenApiTypes.BOOL),
        ],
        request=None,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request):
        order_request, _ = order_request_parse(self.params)
        spec = order_services.order_validate(request=order_request)
        compute = self.params.choice(
            "computeCommissionRates", ("true", "false"), default="false"
        )
        if compute == "false":
            return self.answer({})
        zero = rep.amount(0)
        return self.answer(
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
            query_param(
                "cancelReplaceMode",
                required=True,
                enum=["STOP_ON_FAILURE", "ALLOW_FAILURE"],
            ),
            query_param("cancelOrderId", OpenApiTypes.INT64),
            query_param("cancelOrigClientOrderId"),
            query_param("cancelNewClientOrderId"),
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
        outcome = order_services.order_cancel_replace(
            user_id=request.user.id,
            symbol=order_request.symbol,
            cancel_order_id=cancel_id,
            cancel_orig_client_order_id=cancel_orig,
            request=order_request,
            stop_on_failure=mode == "STOP_ON_FAILURE",
        )
        cancel_new_id = p.client_order_id("cancelNewClientOrderId") or (
            order_services.client_order_id_new()
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
            return self.answer(body)
        if outcome.cancelled or outcome.placement:
            code, msg, status = (
                errors.CANCEL_REPLACE_PARTIAL,
                "Order cancel-replace partially failed.",
                409,
            )
        else:
            code, msg, status = (
                errors.CANCEL_REPLACE_FAILED,
                "Order cancel-replace failed.",
                400,
            )
        return self.answer({"code": code, "msg": msg, "data": body}, status=status)


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
        parameters=[query_param("symbol"), *SIGNED_PARAMS],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        symbol = self.params.symbol(required=False)
        if symbol is not None:
            symbol_selectors.symbol_spec_get(symbol)
        orders = order_selectors.orders_open(user_id=request.user.id, symbol=symbol)
        return self.answer([rep.order_listed(o) for o in orders])

    @extend_schema(
        parameters=[SYMBOL, *SIGNED_PARAMS], responses={200: OpenApiTypes.OBJECT}
    )
    def delete(self, request):
        symbol = self.params.symbol()
        symbol_selectors.symbol_spec_get(symbol)
        orders = order_services.order_cancel_all(user_id=request.user.id, symbol=symbol)
        if not orders:
            raise ExchangeError(errors.CANCEL_REJECTED, "Unknown order sent.")
        cancel_id = order_services.client_order_id_new()
        return self.answer(
            [rep.order_cancelled(o, o.client_order_id, cancel_id) for o in orders]
        )


class AllOrdersApi(SignedReadApi):
    weight = 20

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("orderId", OpenApiTypes.INT64),
            query_param("startTime", OpenApiTypes.INT64),
            query_param("endTime", OpenApiTypes.INT64),
            query_param("limit", OpenApiTypes.INT),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        symbol_selectors.symbol_spec_get(symbol)
        start, end = _time_window(p)
        orders = order_selectors.orders_all(
            user_id=request.user.id,
            symbol=symbol,
            order_id=p.integer("orderId", minimum=0),
            start_time=start,
            end_time=end,
            limit=min(p.integer("limit", default=500, minimum=1), 1000),
        )
        return self.answer([rep.order_listed(o) for o in orders])


def _time_window(p: Params) -> tuple[int | None, int | None]:
    start = p.integer("startTime", minimum=0)
    end = p.integer("endTime", minimum=0)
    if start is not None and end is not None:
        if end < start:
            raise errors.invalid_parameter("endTime")
        if end - start > DAY:
            raise errors.time_range_too_long(24)
    return start, end


class MyTradesApi(SignedReadApi):
    def request_weight(self, request, params):
        return 5 if "orderId" in params else 20

    @extend_schema(
        parameters=[
            SYMBOL,
            query_param("orderId", OpenApiTypes.INT64),
            query_param("startTime", OpenApiTypes.INT64),
            query_param("endTime", OpenApiTypes.INT64),
            query_param("fromId", OpenApiTypes.INT64),
            query_param("limit", OpenApiTypes.INT),
            *SIGNED_PARAMS,
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        p = self.params
        symbol = p.symbol()
        spec = symbol_selectors.symbol_spec_get(symbol)
        order_id = p.integer("orderId", minimum=0)
        from_id = p.integer("fromId", minimum=0)
        start, end = _time_window(p)
        if from_id is not None and (start is not None or end is not None):
            raise ExchangeError(
                errors.OPTIONAL_PARAMS_BAD_COMBO,
                "Combination of optional parameters invalid.",
            )
        trades = order_selectors.trades_mine(
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
        return self.answer(body)


class AccountApi(SignedReadApi):
    weight = 20

    @extend_schema(
        parameters=[query_param("omitZeroBalances", OpenApiTypes.BOOL), *SIGNED_PARAMS],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        omit = self.params.choice(
            "omitZeroBalances", ("true", "false"), default="false"
        )
        account = order_selectors.account_get(
            user_id=request.user.id, omit_zero=omit == "true"
        )
        # Account-level rates in basis points; symbols may set their own.
        maker, taker = 10, 10
        trade_allowed = request.auth is None or getattr(request.auth, "can_trade", True)
        return self.answer(
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
        return self.answer(
            [
                {**limits[1], "count": ten_seconds},
                {**limits[2], "count": day},
            ]
        )
