"""Reconcile checks the trading app adds: what open orders hold equals what is
locked, no order is filled beyond its quantity, and every book rebuilt from the
database is uncrossed."""

from collections import defaultdict
from decimal import Decimal

from accounts.models import Balance
from accounts.reconcile import register_check
from matching.registry import BookSlot
from trading.models import OPEN_STATUSES, Order, Symbol
from trading.orders.books import book_rows_open
from trading.symbols.selectors import symbol_spec


def locked_check() -> list[str]:
    """Every user's locked balance equals what their open orders reserve."""
    symbols = {s.symbol: s for s in Symbol.objects.all()}
    reserved: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for symbol_id, user_id, side, price, orig, executed in Order.objects.filter(
        status__in=OPEN_STATUSES
    ).values_list("symbol_id", "user_id", "side", "price", "orig_qty", "executed_qty"):
        symbol = symbols[symbol_id]
        if side == "BUY":
            reserved[(user_id, symbol.quote_id)] += (orig - executed) * price
        else:
            reserved[(user_id, symbol.base_id)] += orig - executed
    problems = []
    for user_id, asset, locked in Balance.objects.values_list(
        "user_id", "asset_id", "locked"
    ):
        expected = reserved.pop((user_id, asset), Decimal(0))
        if locked != expected:
            problems.append(
                f"user {user_id} {asset}: locked {locked}, open orders hold {expected}"
            )
    for (user_id, asset), expected in reserved.items():
        problems.append(
            f"user {user_id} {asset}: no balance, open orders hold {expected}"
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
