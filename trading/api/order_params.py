"""Reading a new order from Binance parameters, refusing bad ones as Binance does."""

from __future__ import annotations

from exchange import errors
from exchange.errors import ExchangeError
from trading.api.params import Params
from trading.orders.types import OrderRequest

SIDES = ("BUY", "SELL")
STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
LIMIT_STOPS = ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
SUPPORTED_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", *STOP_TYPES)
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
DEFAULT_STP = "EXPIRE_MAKER"
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")


def rejected(message: str, reason: str) -> ExchangeError:
    return ExchangeError(errors.NEW_ORDER_REJECTED, message, reason=reason)


def order_request_parse(params: Params) -> tuple[OrderRequest, str]:
    """The order and the response type asked for."""
    symbol = params.symbol()
    side = params.choice(
        "side", SIDES, required=True, code=errors.INVALID_SIDE, message="Invalid side."
    )
    order_type = params.required("type")
    if order_type not in SUPPORTED_TYPES:
        raise ExchangeError(errors.INVALID_ORDER_TYPE, "Invalid orderType.")
    if "icebergQty" in params:
        raise rejected("Iceberg orders are not supported for this symbol.", "iceberg")
    stop_price, trailing_delta = stop_params_parse(params, order_type)

    time_in_force = None
    if order_type == "LIMIT" or order_type in LIMIT_STOPS:
        time_in_force = params.choice(
            "timeInForce",
            TIME_IN_FORCE,
            required=True,
            code=errors.INVALID_TIF,
            message="Invalid timeInForce.",
        )
    else:
        params.not_sent("timeInForce")

    quantity = params.decimal("quantity")
    quote_order_qty = params.decimal("quoteOrderQty")
    price = params.decimal("price")
    if order_type == "MARKET" or order_type in ("STOP_LOSS", "TAKE_PROFIT"):
        params.not_sent("price")
    if order_type == "MARKET":
        if quantity is None and quote_order_qty is None:
            raise ExchangeError(
                errors.MANDATORY_PARAM,
                "Param 'quantity' or 'quoteOrderQty' must be sent, but both were "
                "empty/null!",
            )
        if quantity is not None:
            params.not_sent("quoteOrderQty")
    else:
        params.not_sent("quoteOrderQty")
        if quantity is None:
            raise errors.mandatory_missing("quantity")
        if price is None and order_type not in ("STOP_LOSS", "TAKE_PROFIT"):
            raise errors.mandatory_missing("price")

    stp = params.choice("selfTradePreventionMode", STP_MODES, default=DEFAULT_STP)
    default_response = "FULL" if order_type in ("LIMIT", "MARKET") else "ACK"
    response_type = params.choice(
        "newOrderRespType", RESPONSE_TYPES, default=default_response
    )
    request = OrderRequest(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=quantity,
        quote_order_qty=quote_order_qty,
        price=price,
        time_in_force=time_in_force,
        new_client_order_id=params.client_order_id("newClientOrderId"),
        self_trade_prevention_mode=stp,
        stop_price=stop_price,
        trailing_delta=trailing_delta,
    )
    return request, response_type


def stop_params_parse(params: Params, order_type: str, prefix: str = "") -> tuple:
    """``stopPrice`` and ``trailingDelta`` (named ``<prefix>StopPrice`` and
    ``<prefix>TrailingDelta`` in order lists): at least one for a stop type,
    neither for the others."""
    stop_name = f"{prefix}StopPrice" if prefix else "stopPrice"
    delta_name = f"{prefix}TrailingDelta" if prefix else "trailingDelta"
    if order_type not in STOP_TYPES:
        params.not_sent(stop_name, delta_name)
        return None, None
    stop_price = params.decimal(stop_name)
    trailing_delta = params.integer(delta_name)
    if stop_price is None and trailing_delta is None:
        raise ExchangeError(
            errors.MANDATORY_PARAM,
            f"Param '{stop_name}' or '{delta_name}' must be sent, but both were "
            "empty/null!",
        )
    return stop_price, trailing_delta
