"""The user-data events (``executionReport``, ``listStatus``,
``outboundAccountPosition``, ``balanceUpdate``) built from the bus's compact
notices and the database.

The order path publishes only which orders changed how (see
``trading.marketdata.events``); the events are filled in here, for the users who
have a subscription in this process, so that nobody pays for events no one reads.
Every figure in a report is as of that state change: cumulative quantities are
summed from the order's trades up to the trade reported, never read from the
order row (which may have moved on since).

Sync (ORM): the hub calls these through a thread.
"""

from __future__ import annotations

from decimal import Decimal

from accounts.models import ApiKey, Balance
from trading.marketdata.shapes import amount
from trading.models import Order, OrderList, Trade

ZERO = Decimal(0)


def order_reports(*, notice: dict, user_ids: set[int]) -> dict[int, list[dict]]:
    """``executionReport`` and ``listStatus`` events in the order the notice
    gives them, then one ``outboundAccountPosition``, per user in ``user_ids``
    that the notice concerns."""
    symbol = notice["s"]
    items = [
        (position, item)
        for position, item in enumerate(notice["items"])
        if item[0] in user_ids
    ]
    list_items = [item for item in notice.get("lists", ()) if item[0] in user_ids]
    if not items and not list_items:
        return {}
    orders = {
        o.order_id: o
        for o in Order.objects.filter(
            symbol_id=symbol, order_id__in={item[1] for _, item in items}
        )
    }
    trade_ids = {item[3] for _, item in items if item[3] >= 0}
    trades = {
        t.trade_id: t
        for t in Trade.objects.filter(symbol_id=symbol, trade_id__in=trade_ids)
    }
    running = _running_totals(symbol, orders, [item for _, item in items])
    base, quote = notice["assets"]
    # Sorted by (position, 1) for the notice's order item at that position and
    # (position, 0) for a list status change that goes before it.
    placed: dict[int, list[tuple[tuple[int, int], dict]]] = {}
    for position, (user_id, order_id, execution, trade_id) in items:
        order = orders.get(order_id)
        if order is None:
            continue
        report = _execution_report(
            order,
            execution,
            trades.get(trade_id),
            running.get((order_id, trade_id), (ZERO, ZERO)),
            notice["E"],
            notice["seq"] * 1000 + position,
            base,
            quote,
        )
        placed.setdefault(user_id, []).append(((position, 1), report))
    for (user_id, _, _, _, _, position), event in zip(
        list_items, _list_statuses(symbol, list_items, notice["E"]), strict=True
    ):
        if event is not None:
            placed.setdefault(user_id, []).append(((position, 0), event))
    out: dict[int, list[dict]] = {}
    for user_id, events in placed.items():
        events.sort(key=lambda pair: pair[0])
        out[user_id] = [event for _, event in events]
        out[user_id].append(
            account_position(
                user_id=user_id, assets=notice["assets"], event_time=notice["E"]
            )
        )
    return out


def _list_statuses(symbol: str, list_items: list, event_time: int) -> list:
    """One ``listStatus`` per list item (None for a list no longer found): the
    list's status as the item says it changed, its legs as they are now."""
    if not list_items:
        return []
    ids = {item[1] for item in list_items}
    lists = {lst.pk: lst for lst in OrderList.objects.filter(pk__in=ids)}
    legs: dict[int, list[dict]] = {}
    for list_id, order_id, client_order_id in (
        Order.objects.filter(symbol_id=symbol, order_list_id__in=ids)
        .order_by("order_id")
        .values_list("order_list_id", "order_id", "client_order_id")
    ):
        legs.setdefault(list_id, []).append(
            {"s": symbol, "i": order_id, "c": client_order_id}
        )
    out: list[dict | None] = []
    for _, list_id, status_type, order_status, transaction_time, _ in list_items:
        lst = lists.get(list_id)
        out.append(
            None
            if lst is None
            else {
                "e": "listStatus",
                "E": event_time,
                "s": symbol,
                "g": list_id,
                "c": lst.contingency_type,
                "l": status_type,
                "L": order_status,
                "r": "NONE",
                "C": lst.list_client_order_id,
                "T": transaction_time,
                "O": legs.get(list_id, []),
            }
        )
    return out


def _running_totals(symbol: str, orders: dict, items: list) -> dict:
    """(order_id, trade_id) -> (cumulative qty, cumulative quote) after that trade;
    (order_id, -1) -> the order's totals after its last reported state change."""
    last_trade: dict[int, int] = {}
    for _, order_id, _, trade_id in items:
        if trade_id >= 0:
            last_trade[order_id] = max(last_trade.get(order_id, -1), trade_id)
    totals: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}
    for order_id, up_to in last_trade.items():
        order = orders.get(order_id)
        if order is None:
            continue
        side = {
            "buyer_order_id" if order.side == "BUY" else "seller_order_id": order_id
        }
        qty = quote = ZERO
        for trade_id, trade_qty, trade_quote in (
            Trade.objects.filter(symbol_id=symbol, trade_id__lte=up_to, **side)
            .order_by("trade_id")
            .values_list("trade_id", "qty", "quote_qty")
        ):
            qty += trade_qty
            quote += trade_quote
            totals[(order_id, trade_id)] = (qty, quote)
    return totals


def _execution_report(
    order: Order,
    execution: str,
    trade: Trade | None,
    cumulative: tuple[Decimal, Decimal],
    event_time: int,
    execution_id: int,
    base: str,
    quote: str,
) -> dict:
    buying = order.side == "BUY"
    if execution == "NEW":
        status, filled, filled_quote = "NEW", ZERO, ZERO
    elif execution == "TRADE":
        filled, filled_quote = cumulative
        status = "FILLED" if filled >= order.orig_qty else "PARTIALLY_FILLED"
    else:
        # A final state: the row does not change after it.
        status = order.status
        filled, filled_quote = order.executed_qty, order.cummulative_quote_qty
    if trade is not None:
        last_qty, last_price, last_quote = trade.qty, trade.price, trade.quote_qty
        commission = trade.buyer_fee if buying else trade.seller_fee
        commission_asset = base if buying else quote
        maker = trade.is_buyer_maker if buying else not trade.is_buyer_maker
        when = trade.time
    else:
        last_qty = last_price = last_quote = commission = ZERO
        commission_asset = None
        maker = False
        when = order.update_time if execution != "NEW" else order.time
    on_book = order.type != "MARKET" and status in ("NEW", "PARTIALLY_FILLED")
    report = {
        "e": "executionReport",
        "E": event_time,
        "s": order.symbol_id,
        "c": order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force or "GTC",
        "q": amount(order.orig_qty),
        "p": amount(order.price),
        "P": amount(order.stop_price),
        "F": amount(0),
        "g": order.order_list_id,
        "C": order.client_order_id if execution == "CANCELED" else "",
        "x": execution,
        "X": status,
        "r": "NONE",
        "i": order.order_id,
        "l": amount(last_qty),
        "z": amount(filled),
        "L": amount(last_price),
        "n": amount(commission),
        "N": commission_asset,
        "T": when,
        "t": trade.trade_id if trade is not None else -1,
        "I": execution_id,
        "w": on_book,
        "m": maker,
        "M": False,
        "O": order.time,
        "Z": amount(filled_quote),
        "Y": amount(last_quote),
        "Q": amount(order.orig_quote_order_qty),
        "V": order.self_trade_prevention_mode,
    }
    if order.trailing_delta:
        report["d"] = order.trailing_delta
        if order.trailing_time is not None:
            report["D"] = order.trailing_time
    if on_book:
        report["W"] = order.working_time or order.time
    return report


def account_position(*, user_id: int, assets: list[str], event_time: int) -> dict:
    """``outboundAccountPosition`` for the assets that may have changed."""
    rows = Balance.objects.filter(user_id=user_id, asset_id__in=assets).order_by(
        "asset_id"
    )
    return {
        "e": "outboundAccountPosition",
        "E": event_time,
        "u": event_time,
        "B": [
            {"a": row.asset_id, "f": amount(row.free), "l": amount(row.locked)}
            for row in rows
        ],
    }


def balance_update(notice: dict) -> dict:
    return {
        "e": "balanceUpdate",
        "E": notice["E"],
        "a": notice["a"],
        "d": notice["d"],
        "T": notice["T"],
    }


def keys_active(*, key_ids: set[int]) -> set[int]:
    """Those of ``key_ids`` that are neither revoked nor of a disabled user."""
    return set(
        ApiKey.objects.filter(
            id__in=key_ids, revoked_at=None, user__is_active=True
        ).values_list("id", flat=True)
    )
