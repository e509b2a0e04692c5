"""Reconcile checks the trading app adds: what open orders hold equals what is
locked, no order is filled beyond its quantity, and every book rebuilt from the
database is uncrossed."""

from collections import defaultdict
from decimal import Decimal

from accounts.models import Balance
from accounts.reconcile import register_check
from matching.registry import BookSlot
from trading.models import LIVE_STATUSES, Order, OrderList, Symbol
from trading.orders.books import book_rows_open
from trading.orders.holds import holds_of
from trading.symbols.selectors import symbol_spec

FIELDS = (
    "symbol_id",
    "order_id",
    "user_id",
    "side",
    "price",
    "orig_qty",
    "executed_qty",
    "status",
    "order_list_id",
)


def locked_check() -> list[str]:
    """Every user's locked balance equals what their live orders hold: resting
    orders, pending stops and order-list legs (an OCO pair holds once, see
    ``trading.orders.holds``)."""
    assets = {s.symbol: (s.base_id, s.quote_id) for s in Symbol.objects.all()}
    live = Order.objects.filter(status__in=LIVE_STATUSES).only(*FIELDS)
    orders = list(live)
    list_ids = {o.order_list_id for o in orders if o.order_list_id != -1}
    # Every leg of a live list (closed ones hold nothing, but say which is the
    # working order of an OTOCO).
    orders += list(
        Order.objects.filter(order_list_id__in=list_ids)
        .exclude(status__in=LIVE_STATUSES)
        .only(*FIELDS)
    )
    kinds = dict(OrderList.objects.filter(id__in=list_ids).values_list("id", "kind"))
    reserved: dict[tuple[int, str], Decimal] = defaultdict(
        Decimal, holds_of(orders, assets, kinds)
    )
    problems = []
    for user_id, asset, locked in Balance.objects.values_list(
        "user_id", "asset_id", "locked"
    ):
        expected = reserved.pop((user_id, asset), Decimal(0))
        if locked != expected:
            problems.append(
                f"user {user_id} {asset}: locked {locked}, live orders hold {expected}"
            )
    for (user_id, asset), expected in reserved.items():
        problems.append(
            f"user {user_id} {asset}: no balance, live orders hold {expected}"
        )
    return problems


def overfill_check() -> list[str]:
    """No order has executed more than its quantity."""
    return [
        f"order {symbol}#{order_id}: executed {executed} > orig {orig}"
        for symbol, order_id, executed, orig in Order.objects.filter(
            executed_qty__gt=0
        ).values_list("symbol_id", "order_id", "executed_qty", "orig_qty")
        if executed > orig
    ]


def books_check() -> list[str]:
    """Every symbol's book, rebuilt from its open orders, is uncrossed and sound."""
    problems = []
    for row in Symbol.objects.all():
        spec = symbol_spec(row)
        slot = BookSlot(row.symbol)
        slot.rebuild(book_rows_open(row.symbol, spec), row.book_seq)
        try:
            slot.book.check_invariants()
        except AssertionError as exc:
            problems.append(f"{row.symbol}: {exc}")
    return problems


register_check("locked balances equal open orders", locked_check)
register_check("no order over-filled", overfill_check)
register_check("books rebuilt from the database are sound", books_check)
