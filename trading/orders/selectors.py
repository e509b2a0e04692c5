"""Reads of a user's orders, trades and balances (the signed account endpoints).

History goes to the read replica when one is configured; the most frequent reads
are one prepared statement each on PostgreSQL.
"""

from __future__ import annotations

from collections import namedtuple

from django.db import connection

from accounts import services as funds
from accounts.selectors import balances_of
from exchange.db import prepared_read
from exchange.db_router import replica_reads
from trading.marketdata.selectors import TRADE_FIELDS, rows_of
from trading.marketdata.shapes import amount
from trading.models import OPEN_STATUSES, Order, OrderAmendment, OrderList, Trade
from trading.orders import fastpath


def order_get(
    *,
    user_id: int,
    symbol: str,
    order_id: int | None = None,
    orig_client_order_id: str | None = None,
) -> Order | None:
    """The user's order by id, or by client id (the newest with it). With both, the
    order must match both, as on Binance."""
    query = Order.objects.filter(symbol_id=symbol, user_id=user_id)
    if order_id is not None:
        order = query.filter(order_id=order_id).first()
        if order is not None and orig_client_order_id not in (
            None,
            order.client_order_id,
        ):
            return None
        return order
    return (
        query.filter(client_order_id=orig_client_order_id).order_by("-order_id").first()
    )


# The columns the order representations read: lists are built from
# these rows (named tuples) rather than from model instances, which cost more than
# the query on deep histories.
ORDER_FIELDS = (
    "symbol_id",
    "order_id",
    "client_order_id",
    "price",
    "orig_qty",
    "executed_qty",
    "orig_quote_order_qty",
    "cummulative_quote_qty",
    "status",
    "time_in_force",
    "type",
    "side",
    "time",
    "update_time",
    "self_trade_prevention_mode",
    "stop_price",
    "trailing_delta",
    "trailing_time",
    "working_time",
    "order_list_id",
)


OrderRow = namedtuple("OrderRow", ORDER_FIELDS)  # type: ignore[misc]
_OPEN_OF_USER = f"user_id = %s::bigint AND status IN {fastpath.OPEN}"
ORDERS_OPEN = fastpath.order_select(
    f"{_OPEN_OF_USER} ORDER BY symbol_id, order_id", ORDER_FIELDS
)
ORDERS_OPEN_ON = fastpath.order_select(
    f"{_OPEN_OF_USER} AND symbol_id = %s ORDER BY order_id", ORDER_FIELDS
)


def orders_open(*, user_id: int, symbol: str | None) -> list:
    """The user's open orders (on one symbol, or all), by symbol then id. The
    most frequent signed read: on PostgreSQL one prepared statement."""
    if connection.vendor != "postgresql":
        return orders_open_orm(user_id=user_id, symbol=symbol)
    if symbol is None:
        return prepared_read(ORDERS_OPEN, (user_id,), OrderRow._make)
    return prepared_read(ORDERS_OPEN_ON, (user_id, symbol), OrderRow._make)


def orders_open_orm(*, user_id: int, symbol: str | None) -> list:
    query = Order.objects.filter(user_id=user_id, status__in=OPEN_STATUSES)
    if symbol is not None:
        query = query.filter(symbol_id=symbol)
    return rows_of(query.order_by("symbol_id", "order_id"), ORDER_FIELDS)


def orders_all(
    *,
    user_id: int,
    symbol: str,
    order_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int,
) -> list:
    """allOrders, through the (user, symbol, order_id) or (user, symbol, time)
    indexes."""
    with replica_reads():
        query = Order.objects.filter(user_id=user_id, symbol_id=symbol)
        if order_id is not None:
            query = query.filter(order_id__gte=order_id).order_by("order_id")
            return rows_of(query[:limit], ORDER_FIELDS)
        if start_time is not None or end_time is not None:
            if start_time is not None:
                query = query.filter(time__gte=start_time)
            if end_time is not None:
                query = query.filter(time__lte=end_time)
            return rows_of(query.order_by("time", "order_id")[:limit], ORDER_FIELDS)
        return rows_of(query.order_by("-order_id")[:limit], ORDER_FIELDS)[::-1]


def trades_mine(
    *,
    user_id: int,
    symbol: str,
    order_id: int | None,
    start_time: int | None,
    end_time: int | None,
    from_id: int | None,
    limit: int,
) -> list:
    """myTrades: trades the user was buyer or seller in, oldest first. With
    ``order_id``, that order's trades, from ``from_id`` if given.

    The buyer side and the seller side are read separately, each down its own
    (user, symbol, trade_id) index with the limit, then merged: one query with
    an OR would collect every trade of the user before sorting."""
    with replica_reads():
        trades = Trade.objects.filter(symbol_id=symbol)
        if order_id is not None:
            sides = [
                trades.filter(buyer_id=user_id, buyer_order_id=order_id),
                trades.filter(seller_id=user_id, seller_order_id=order_id),
            ]
        else:
            sides = [trades.filter(buyer_id=user_id), trades.filter(seller_id=user_id)]
        if start_time is not None or end_time is not None:
            window = {}
            if start_time is not None:
                window["time__gte"] = start_time
            if end_time is not None:
                window["time__lte"] = end_time
            sides = [side.filter(**window) for side in sides]
        newest_first = from_id is None and start_time is None and end_time is None
        if order_id is not None:
            newest_first = False
        if from_id is not None:
            sides = [side.filter(trade_id__gte=from_id) for side in sides]
        ordering = "-trade_id" if newest_first else "trade_id"
        merged = {
            row.trade_id: row
            for side in sides
            for row in rows_of(side.order_by(ordering)[:limit], TRADE_FIELDS)
        }
        ordered = sorted(merged.values(), key=lambda row: row.trade_id)
        return ordered[-limit:] if newest_first else ordered[:limit]


def account_get(*, user_id: int, omit_zero: bool = False) -> dict:
    rows = []
    for asset, free, locked in balances_of(user_id):
        if omit_zero and not free and not locked:
            continue
        places = max(8, funds.asset_decimals(asset))
        rows.append(
            {
                "asset": asset,
                "free": amount(free, places),
                "locked": amount(locked, places),
            }
        )
    return {"balances": rows}


def order_list_legs(order_lists) -> dict[int, list[Order]]:
    """Every leg of each list, in leg order (by order_id)."""
    ids = [order_list.pk for order_list in order_lists]
    legs: dict[int, list[Order]] = {list_id: [] for list_id in ids}
    if ids:
        for order in Order.objects.filter(order_list_id__in=ids).order_by("order_id"):
            legs[order.order_list_id].append(order)
    return legs


def order_lists_all(
    *,
    user_id: int,
    from_id: int | None,
    start_time: int | None,
    end_time: int | None,
    limit: int,
) -> list[OrderList]:
    """allOrderList: from an id up, or in a time window, else the newest."""
    query = OrderList.objects.filter(user_id=user_id)
    if from_id is not None:
        return list(query.filter(pk__gte=from_id).order_by("pk")[:limit])
    if start_time is not None or end_time is not None:
        if start_time is not None:
            query = query.filter(transaction_time__gte=start_time)
        if end_time is not None:
            query = query.filter(transaction_time__lte=end_time)
        return list(query.order_by("transaction_time", "pk")[:limit])
    return list(query.order_by("-pk")[:limit])[::-1]


def order_lists_open(*, user_id: int) -> list[OrderList]:
    return list(
        OrderList.objects.filter(
            user_id=user_id, list_status_type="EXEC_STARTED"
        ).order_by("pk")
    )


def order_amendments(
    *,
    user_id: int,
    symbol: str,
    order_id: int,
    from_execution_id: int | None,
    limit: int,
) -> list[OrderAmendment]:
    query = OrderAmendment.objects.filter(
        user_id=user_id, symbol_id=symbol, order_id=order_id
    )
    if from_execution_id is not None:
        query = query.filter(pk__gte=from_execution_id)
    return list(query.order_by("pk")[:limit])
