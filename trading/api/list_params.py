"""Reading order lists (OCO, OTO, OTOCO) and amendments from Binance parameters,
refusing bad ones with Binance's codes."""

from __future__ import annotations

from exchange import errors
from exchange.errors import ExchangeError
from trading.api.order_params import (
    DEFAULT_STP,
    LIMIT_STOPS,
    RESPONSE_TYPES,
    SIDES,
    STP_MODES,
    SUPPORTED_TYPES,
    TIME_IN_FORCE,
    rejected,
    stop_params_parse,
)
from trading.api.params import Params
from trading.orders.types import OrderRequest

OCO_TYPES = (
    "STOP_LOSS_LIMIT",
    "STOP_LOSS",
    "LIMIT_MAKER",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
WORKING_TYPES = ("LIMIT", "LIMIT_MAKER")


def _side(params: Params, name: str) -> str:
    return params.choice(
        name, SIDES, required=True, code=errors.INVALID_SIDE, message="Invalid side."
    )


def _common(params: Params) -> tuple[str, str, str | None]:
    """symbol, selfTradePreventionMode, listClientOrderId."""
    symbol = params.symbol()
    stp = params.choice("selfTradePreventionMode", STP_MODES, default=DEFAULT_STP)
    return symbol, stp, params.client_order_id("listClientOrderId")


def response_type(params: Params) -> str:
    return params.choice("newOrderRespType", RESPONSE_TYPES, default="FULL")


def leg_parse(
    params: Params,
    prefix: str,
    *,
    symbol: str,
    side: str,
    order_type: str,
    quantity,
    stp: str,
) -> OrderRequest:
    """One leg from its prefixed parameters (``abovePrice``, ``workingPrice``,
    ``pendingAboveStopPrice``...)."""

    def name(suffix: str) -> str:
        return prefix + suffix

    if name("IcebergQty") in params:
        raise rejected("Iceberg orders are not supported for this symbol.", "iceberg")
    stop_price, trailing_delta = stop_params_parse(params, order_type, prefix)
    price = params.decimal(name("Price"))
    time_in_force = None
    if order_type == "LIMIT" or order_type in LIMIT_STOPS:
        time_in_force = params.choice(
            name("TimeInForce"),
            TIME_IN_FORCE,
            required=True,
            code=errors.INVALID_TIF,
            message="Invalid timeInForce.",
        )
    else:
        params.not_sent(name("TimeInForce"))
    if order_type in ("LIMIT", "LIMIT_MAKER", *LIMIT_STOPS):
        if price is None:
            raise errors.mandatory_missing(name("Price"))
    else:
        params.not_sent(name("Price"))
    return OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=quantity,
        price=price,
        time_in_force=time_in_force,
        new_client_order_id=params.client_order_id(name("ClientOrderId")),
        self_trade_prevention_mode=stp,
        stop_price=stop_price,
        trailing_delta=trailing_delta,
    )


def oco_pair_check(side: str, above_type: str, below_type: str) -> None:
    """Binance's rules for which order types may be the above and below leg."""
    for leg_type in (above_type, below_type):
        if leg_type not in OCO_TYPES:
            raise ExchangeError(
                errors.OCO_ORDER_TYPE_REJECTED, "Order type not supported in OCO."
            )
    if above_type == below_type == "LIMIT_MAKER":
        raise ExchangeError(
            errors.BOTH_OCO_ORDERS_CANNOT_BE_LIMIT,
            "At least one OCO order must be contingent.",
        )
    for leg_type, above in ((above_type, True), (below_type, False)):
        family = leg_type.removesuffix("_LIMIT")
        if family == "LIMIT_MAKER":
            if side == "BUY" and above:
                raise ExchangeError(
                    errors.BUY_OCO_LIMIT_MUST_BE_BELOW,
                    "A limit order in a buy OCO must be below.",
                )
            if side == "SELL" and not above:
                raise ExchangeError(
                    errors.SELL_OCO_LIMIT_MUST_BE_ABOVE,
                    "A limit order in a sell OCO must be above.",
                )
        elif family == "STOP_LOSS":
            if side == "BUY" and not above:
                raise ExchangeError(
                    errors.BUY_OCO_STOP_LOSS_MUST_BE_ABOVE,
                    "A stop loss order in a buy OCO must be above.",
                )
            if side == "SELL" and above:
                raise ExchangeError(
                    errors.SELL_OCO_STOP_LOSS_MUST_BE_BELOW,
                    "A stop loss order in a sell OCO must be below.",
                )
        elif family == "TAKE_PROFIT":
            if side == "BUY" and above:
                raise ExchangeError(
                    errors.BUY_OCO_TAKE_PROFIT_MUST_BE_BELOW,
                    "A take profit order in a buy OCO must be below.",
                )
            if side == "SELL" and not above:
                raise ExchangeError(
                    errors.SELL_OCO_TAKE_PROFIT_MUST_BE_ABOVE,
                    "A take profit order in a sell OCO must be above.",
                )


def oco_parse(params: Params) -> tuple[list[OrderRequest], str | None, str]:
    """POST /api/v3/orderList/oco: legs (below, above), list client id, response
    type."""
    symbol, stp, list_client_id = _common(params)
    side = _side(params, "side")
    quantity = params.decimal("quantity", required=True)
    above_type = params.required("aboveType")
    below_type = params.required("belowType")
    oco_pair_check(side, above_type, below_type)
    legs = [
        leg_parse(
            params,
            prefix,
            symbol=symbol,
            side=side,
            order_type=leg_type,
            quantity=quantity,
            stp=stp,
        )
        for prefix, leg_type in (("below", below_type), ("above", above_type))
    ]
    return legs, list_client_id, response_type(params)


def oco_legacy_parse(params: Params) -> tuple[list[OrderRequest], str | None, str]:
    """POST /api/v3/order/oco (deprecated): a LIMIT_MAKER at ``price`` and a
    STOP_LOSS(_LIMIT) at ``stopPrice``; legs (stop, limit) as Binance numbers
    them."""
    symbol, stp, list_client_id = _common(params)
    side = _side(params, "side")
    quantity = params.decimal("quantity", required=True)
    price = params.decimal("price", required=True)
    stop_price = params.decimal("stopPrice", required=True)
    if "limitIcebergQty" in params or "stopIcebergQty" in params:
        raise rejected("Iceberg orders are not supported for this symbol.", "iceberg")
    trailing_delta = params.integer("trailingDelta")
    stop_limit_price = params.decimal("stopLimitPrice")
    stop_tif = None
    if stop_limit_price is not None:
        stop_tif = params.choice(
            "stopLimitTimeInForce",
            TIME_IN_FORCE,
            required=True,
            code=errors.INVALID_TIF,
            message="Invalid timeInForce.",
        )
    else:
        params.not_sent("stopLimitTimeInForce")
    stop = OrderRequest(
        symbol=symbol,
        side=side,
        type="STOP_LOSS_LIMIT" if stop_limit_price is not None else "STOP_LOSS",
        quantity=quantity,
        price=stop_limit_price,
        time_in_force=stop_tif,
        new_client_order_id=params.client_order_id("stopClientOrderId"),
        self_trade_prevention_mode=stp,
        stop_price=stop_price,
        trailing_delta=trailing_delta,
    )
    limit = OrderRequest(
        symbol=symbol,
        side=side,
        type="LIMIT_MAKER",
        quantity=quantity,
        price=price,
        new_client_order_id=params.client_order_id("limitClientOrderId"),
        self_trade_prevention_mode=stp,
    )
    return [stop, limit], list_client_id, response_type(params)


def _working(params: Params, symbol: str, stp: str) -> OrderRequest:
    working_type = params.required("workingType")
    if working_type not in WORKING_TYPES:
        raise ExchangeError(errors.INVALID_ORDER_TYPE, "Invalid orderType.")
    return leg_parse(
        params,
        "working",
        symbol=symbol,
        side=_side(params, "workingSide"),
        order_type=working_type,
        quantity=params.decimal("workingQuantity", required=True),
        stp=stp,
    )


def oto_parse(params: Params) -> tuple[list[OrderRequest], str | None, str]:
    """POST /api/v3/orderList/oto: legs (working, pending)."""
    symbol, stp, list_client_id = _common(params)
    working = _working(params, symbol, stp)
    pending_type = params.required("pendingType")
    if pending_type not in SUPPORTED_TYPES:
        raise ExchangeError(errors.INVALID_ORDER_TYPE, "Invalid orderType.")
    pending = leg_parse(
        params,
        "pending",
        symbol=symbol,
        side=_side(params, "pendingSide"),
        order_type=pending_type,
        quantity=params.decimal("pendingQuantity", required=True),
        stp=stp,
    )
    if pending.side == "BUY" and pending.type == "MARKET":
        raise errors.unsupported_combination()
    return [working, pending], list_client_id, response_type(params)


def otoco_parse(params: Params) -> tuple[list[OrderRequest], str | None, str]:
    """POST /api/v3/orderList/otoco: legs (working, pending above, pending
    below)."""
    symbol, stp, list_client_id = _common(params)
    working = _working(params, symbol, stp)
    side = _side(params, "pendingSide")
    quantity = params.decimal("pendingQuantity", required=True)
    above_type = params.required("pendingAboveType")
    below_type = params.required("pendingBelowType")
    oco_pair_check(side, above_type, below_type)
    pending = [
        leg_parse(
            params,
            prefix,
            symbol=symbol,
            side=side,
            order_type=leg_type,
            quantity=quantity,
            stp=stp,
        )
        for prefix, leg_type in (
            ("pendingAbove", above_type),
            ("pendingBelow", below_type),
        )
    ]
    return [working, *pending], list_client_id, response_type(params)
