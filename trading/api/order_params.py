"""Reading a new order from Binance parameters, refusing bad ones as Binance does."""

from __future__ import annotations

from exchange import errors
from exchange.errors import ExchangeError
from trading.api.params import Params
from trading.orders.types import OrderRequest

SIDES = ("BUY", "SELL")
SUPPORTED_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER")
UNSUPPORTED_TYPES = {
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
}
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
    if order_type in UNSUPPORTED_TYPES:
        raise rejected(UNSUPPORTED_TYPES[order_type], "unsupported_type")
    if order_type not in SUPPORTED_TYPES:
        raise ExchangeError(errors.INVALID_ORDER_TYPE, "Invalid orderType.")
    if "icebergQty" in params:
        raise rejected("Iceberg orders are not supported for this symbol.", "iceberg")
    if "trailingDelta" in params:
        raise rejected(
            "Trailing stop orders are not supported for this symbol.", "trailing"
        )
    params.not_sent("stopPrice")

    time_in_force = None
    if order_type == "LIMIT":
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
    if order_type == "MARKET":
        params.not_sent("price")
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
        if price is None:
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
    )
    return request, response_type
