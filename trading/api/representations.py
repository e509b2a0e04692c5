"""Binance's response shapes: field names, order and string-encoded decimals."""

from __future__ import annotations

from trading.marketdata.shapes import amount
from trading.models import Order, Trade


STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")


def working_time(order) -> int:
    """When the order started working on the book; -1 while it waits (a stop
    not triggered, a list leg pending its working order)."""
    if order.working_time is not None:
        return order.working_time
    if order.type in STOP_TYPES or order.status == "PENDING_NEW":
        return -1
    return order.time


def _stop_fields(order) -> dict:
    """Binance's conditional fields of a stop order (none for other types)."""
    if order.type not in STOP_TYPES:
        return {}
    body = {"stopPrice": amount(order.stop_price)}
    if order.trailing_delta:
        body["trailingDelta"] = order.trailing_delta
        body["trailingTime"] = (
            -1 if order.trailing_time is None else order.trailing_time
        )
    return body


def order_ack(order: Order) -> dict:
    return {
        "symbol": order.symbol_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "transactTime": order.update_time,
    }


def _order_core(order: Order) -> dict:
    return {
        "price": amount(order.price),
        "origQty": amount(order.orig_qty),
        "executedQty": amount(order.executed_qty),
        "origQuoteOrderQty": amount(order.orig_quote_order_qty),
        "cummulativeQuoteQty": amount(order.cummulative_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
    }


def order_result(order: Order) -> dict:
    return {
        **order_ack(order),
        **_order_core(order),
        **_stop_fields(order),
        "workingTime": working_time(order),
        "selfTradePreventionMode": order.self_trade_prevention_mode,
    }


def order_full(order: Order, fills) -> dict:
    body = order_result(order)
    body["fills"] = [
        {
            "price": amount(f.price),
            "qty": amount(f.qty),
            "commission": amount(f.commission),
            "commissionAsset": f.commission_asset,
            "tradeId": f.trade_id,
        }
        for f in fills
    ]
    return body


ZERO = "0.00000000"


def _order_head(order: Order) -> dict:
    """The fields GET order, openOrders and allOrders share, in Binance's order."""
    body = {
        "symbol": order.symbol_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": order.client_order_id,
        "price": amount(order.price),
        "origQty": amount(order.orig_qty),
        "executedQty": amount(order.executed_qty),
        "cummulativeQuoteQty": amount(order.cummulative_quote_qty),
        "status": order.status,
        "timeInForce": order.time_in_force,
        "type": order.type,
        "side": order.side,
        "stopPrice": amount(order.stop_price) if order.stop_price else ZERO,
    }
    if order.trailing_delta:
        body["trailingDelta"] = order.trailing_delta
        body["trailingTime"] = (
            -1 if order.trailing_time is None else order.trailing_time
        )
    body["icebergQty"] = ZERO
    body["time"] = order.time
    body["updateTime"] = order.update_time
    body["isWorking"] = working_time(order) != -1
    return body


def order_query(order: Order) -> dict:
    """GET /api/v3/order."""
    body = _order_head(order)
    body["workingTime"] = working_time(order)
    body["origQuoteOrderQty"] = amount(order.orig_quote_order_qty)
    body["selfTradePreventionMode"] = order.self_trade_prevention_mode
    return body


def order_listed(order: Order) -> dict:
    """openOrders and allOrders: as GET order, with ``origQuoteOrderQty`` before
    ``workingTime`` as Binance lists them."""
    body = _order_head(order)
    body["origQuoteOrderQty"] = amount(order.orig_quote_order_qty)
    body["workingTime"] = working_time(order)
    body["selfTradePreventionMode"] = order.self_trade_prevention_mode
    return body


def order_cancelled(
    order: Order, orig_client_order_id: str, client_order_id: str
) -> dict:
    """DELETE /api/v3/order: ``clientOrderId`` is the cancel's own id."""
    core = _order_core(order)
    return {
        "symbol": order.symbol_id,
        "origClientOrderId": orig_client_order_id,
        "orderId": order.order_id,
        "orderListId": order.order_list_id,
        "clientOrderId": client_order_id,
        "transactTime": order.update_time,
        **core,
        **_stop_fields(order),
        "selfTradePreventionMode": order.self_trade_prevention_mode,
    }


def trade_mine(trade: Trade, user_id: int, base: str, quote: str) -> list[dict]:
    """myTrades rows for one trade: one per side the user was on (two for a
    self-trade, as on Binance)."""
    rows = []
    for is_buyer in (True, False):
        if (trade.buyer_id if is_buyer else trade.seller_id) != user_id:
            continue
        rows.append(
            {
                "symbol": trade.symbol_id,
                "id": trade.trade_id,
                "orderId": trade.buyer_order_id if is_buyer else trade.seller_order_id,
                "orderListId": -1,
                "price": amount(trade.price),
                "qty": amount(trade.qty),
                "quoteQty": amount(trade.quote_qty),
                "commission": amount(trade.buyer_fee if is_buyer else trade.seller_fee),
                "commissionAsset": base if is_buyer else quote,
                "time": trade.time,
                "isBuyer": is_buyer,
                "isMaker": trade.is_buyer_maker == is_buyer,
                "isBestMatch": True,
            }
        )
    return rows
