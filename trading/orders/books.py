"""Bringing the process's book for a pair up to date with the database.

The symbol row carries ``book_seq``; each order row carries the seq of its last
change. A process whose book is behind applies the rows changed since (put in,
updated or removed, each at its place in arrival order); a stale book is rebuilt
from the open orders. Caller holds the pair lock.
"""

from __future__ import annotations

from exchange.metrics import BOOK_SYNC_ROWS
from matching import engine
from matching.registry import BookSlot
from trading.models import OPEN_STATUSES, Order
from trading.symbols.specs import SymbolSpec

_BOOK_FIELDS = (
    "order_id",
    "user_id",
    "side",
    "price",
    "orig_qty",
    "executed_qty",
    "status",
)


def book_sync(slot: BookSlot, row, spec: SymbolSpec) -> engine.OrderBook:
    """Bring the process's book up to ``row.book_seq``. Caller holds both locks.

    The rows changed after the slot's seq may have come with the lock
    (``row.changes``, PostgreSQL); otherwise they are read here."""
    if not slot.stale and slot.seq == row.book_seq:
        return _built(slot)
    if slot.stale:
        applied = slot.rebuild(book_rows_open(row.symbol, spec), row.book_seq)
    else:
        rows = getattr(row, "changes", None)
        if rows is None:
            query = Order.objects.filter(symbol_id=row.symbol, seq__gt=slot.seq)
            rows = query.values_list(*_BOOK_FIELDS)
        applied = slot.apply(_book_rows(rows, spec), row.book_seq)
    BOOK_SYNC_ROWS.labels(row.symbol).observe(applied)
    return _built(slot)


def _built(slot: BookSlot) -> engine.OrderBook:
    book = slot.book
    assert book is not None, "a synced slot holds a book"
    return book


def book_rows_open(symbol: str, spec: SymbolSpec):
    """Every open order of the symbol as the book takes it, in arrival order."""
    query = Order.objects.filter(symbol_id=symbol, status__in=OPEN_STATUSES)
    return _book_rows(query.order_by("order_id").values_list(*_BOOK_FIELDS), spec)


def _book_rows(rows, spec: SymbolSpec):
    tick, step = spec.tick_size, spec.step_size
    for order_id, user_id, side, price, orig, executed, status in rows:
        yield (
            order_id,
            user_id,
            side,
            int(price / tick),
            int((orig - executed) / step),
            status in OPEN_STATUSES,
        )
