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


def list_status(order_list, legs, transaction_time: int | None = None) -> dict:
    """An order list as Binance's listStatus: the list and its legs' ids."""
    return {
        "orderListId": order_list.pk,
        "contingencyType": order_list.contingency_type,
        "listStatusType": order_list.list_status_type,
        "listOrderStatus": order_list.list_order_status,
        "listClientOrderId": order_list.list_client_order_id,
        "transactionTime": (
            order_list.transaction_time
            if transaction_time is None
            else transaction_time
        ),
        "symbol": order_list.symbol_id,
        "orders": [
            {
                "symbol": leg.symbol_id,
                "orderId": leg.order_id,
                "clientOrderId": leg.client_order_id,
            }
            for leg in legs
        ],
    }


def order_report(order: Order, fills, response_type: str) -> dict:
    """One leg in a list's ``orderReports``, in the shape the response type asks."""
    if response_type == "ACK":
        return order_ack(order)
    if response_type == "RESULT":
        return order_result(order)
    return order_full(order, fills)


def list_placed(placement, response_type: str) -> dict:
    body = list_status(placement.order_list, placement.orders)
    body["orderReports"] = [
        order_report(o, placement.fills.get(o.order_id, []), response_type)
        for o in placement.orders
    ]
    return body


def list_cancelled(cancel, new_client_order_id) -> dict:
    """DELETE orderList: each leg as a cancel report, under a fresh client id."""
    body = list_status(cancel.order_list, cancel.orders, cancel.order_list.update_time)
    body["orderReports"] = [
        order_cancelled(o, o.client_order_id, new_client_order_id())
        for o in cancel.orders
    ]
    return body


def order_amended(amendment) -> dict:
    """PUT order/amend/keepPriority."""
    order = amendment.order
    body = {
        "transactTime": amendment.amendment.time,
        "executionId": amendment.amendment.pk,
        "amendedOrder": {
            "symbol": order.symbol_id,
            "orderId": order.order_id,
            "orderListId": order.order_list_id,
            "origClientOrderId": amendment.orig_client_order_id,
            "clientOrderId": order.client_order_id,
            "price": amount(order.price),
            "qty": amount(order.orig_qty),
            "executedQty": amount(order.executed_qty),
            "preventedQty": ZERO,
            "quoteOrderQty": amount(order.orig_quote_order_qty),
            "cumulativeQuoteQty": amount(order.cummulative_quote_qty),
            "status": order.status,
            "timeInForce": order.time_in_force,
            "type": order.type,
            "side": order.side,
            **_stop_fields(order),
            "workingTime": working_time(order),
            "selfTradePreventionMode": order.self_trade_prevention_mode,
        },
    }
    if amendment.order_list is not None:
        body["listStatus"] = list_status(amendment.order_list, amendment.list_orders)
    return body


def amendment_row(amendment) -> dict:
    """GET order/amendments."""
    return {
        "symbol": amendment.symbol_id,
        "orderId": amendment.order_id,
        "executionId": amendment.pk,
        "origClientOrderId": amendment.orig_client_order_id,
        "newClientOrderId": amendment.new_client_order_id,
        "origQty": amount(amendment.orig_qty),
        "newQty": amount(amendment.new_qty),
        "time": amendment.time,
    }
