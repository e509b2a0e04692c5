"""What live orders hold locked: one rule for the order path and for reconcile.

An order holds what it may still spend: a BUY its remaining quantity at its limit
price in the quote asset, a SELL its remaining quantity in the base asset. Order
lists share: the legs of an OCO pair (both legs of an OCO, the two pending legs
of an OTOCO) hold the larger of their holds once, since at most one of them can
execute; any other leg holds its own. Pending stops and PENDING_NEW legs hold
from placement, like resting orders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from trading.models import LIVE_STATUSES

ZERO = Decimal(0)
MARKET_PRICED = ("MARKET", "STOP_LOSS", "TAKE_PROFIT")

Key = tuple[int, str]


def order_hold(order, base: str, quote: str) -> tuple[str, Decimal]:
    """``(asset, amount)`` one live order holds on its own (0 once closed)."""
    remaining = order.orig_qty - order.executed_qty
    if order.side == "BUY":
        if order.status not in LIVE_STATUSES:
            return quote, ZERO
        # A BUY without a limit price cannot be held exactly: the order path
        # refuses it as a stop or a pending leg, and a MARKET never rests.
        return quote, remaining * order.price
    if order.status not in LIVE_STATUSES:
        return base, ZERO
    return base, remaining


def holds_of(
    orders: Iterable,
    assets: Mapping[str, tuple[str, str]],
    kinds: Mapping[int, str],
) -> dict[Key, Decimal]:
    """What ``orders`` hold, per (user, asset). ``assets`` maps a symbol to its
    (base, quote); ``kinds`` maps each order list among them to OCO, OTO or
    OTOCO. Every leg of a list must be among ``orders`` for its share to be
    right."""
    held: dict[Key, Decimal] = defaultdict(Decimal)
    pairs: dict[int, list] = defaultdict(list)
    working: dict[int, int] = {}
    orders = list(orders)
    for order in orders:
        list_id = order.order_list_id
        if list_id != -1 and kinds.get(list_id) == "OTOCO":
            first = working.get(list_id)
            if first is None or order.order_id < first:
                working[list_id] = order.order_id
    for order in orders:
        base, quote = assets[order.symbol_id]
        asset, amount = order_hold(order, base, quote)
        list_id = order.order_list_id
        kind = kinds.get(list_id) if list_id != -1 else None
        in_pair = kind == "OCO" or (
            kind == "OTOCO" and order.order_id != working[list_id]
        )
        if in_pair:
            pairs[list_id].append((order.user_id, asset, amount))
        elif amount:
            held[(order.user_id, asset)] += amount
    for legs in pairs.values():
        best: dict[Key, Decimal] = {}
        for user_id, asset, amount in legs:
            key = (user_id, asset)
            best[key] = max(best.get(key, ZERO), amount)
        for key, amount in best.items():
            if amount:
                held[key] += amount
    return dict(held)
