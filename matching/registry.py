"""The per-process registry of books: one slot per symbol, with its lock and seq.

Pure Python like the engine. The caller (``trading``) holds ``slot.lock`` and the
symbol's row lock, brings the book up to the symbol's ``book_seq`` with the order
rows that changed since ``slot.seq``, and marks the slot stale when a transaction
fails after the book was touched, so the next user rebuilds it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping

from matching.engine import OrderBook

# (order_id, owner, side, price_ticks, remaining_lots, is_open)
OrderRow = tuple[int, int, str, int, int, bool]


class BookSlot:
    """One symbol's book in this process. ``book is None`` means stale: rebuild."""

    __slots__ = ("symbol", "lock", "book", "seq", "pending_seq")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.lock = threading.Lock()
        self.book: OrderBook | None = None
        self.seq = -1
        # Set while the book holds changes whose transaction has not committed.
        self.pending_seq: int | None = None

    @property
    def stale(self) -> bool:
        """True when the book cannot be trusted: never built, or holding changes of
        a transaction that did not (yet) commit."""
        return self.book is None or self.pending_seq is not None

    def mark_stale(self) -> None:
        """Forget the book; the next holder of the lock rebuilds it."""
        self.book = None
        self.seq = -1
        self.pending_seq = None

    def touch(self, seq: int) -> None:
        """The book now holds changes that become ``seq`` if their transaction
        commits; until :meth:`confirm` it counts as stale."""
        self.pending_seq = seq

    def confirm(self) -> None:
        """The transaction behind the last :meth:`touch` committed."""
        if self.pending_seq is not None:
            self.seq = self.pending_seq
            self.pending_seq = None

    def rebuild(
        self,
        rows: Iterable[OrderRow],
        seq: int,
        *,
        priorities: Mapping[int, int] | None = None,
        stops: Iterable[tuple] = (),
        lists: Iterable[tuple] = (),
        last_price: int | None = None,
    ) -> int:
        """Replace the book with the given open orders. Caller holds the lock.

        With stop orders and order lists, also: ``priorities`` (order id ->
        the priority a ``Triggered`` event gave it), ``stops`` (pending stop
        orders as ``OrderBook.pending()`` rows), ``lists`` (live lists as
        ``OrderBook.lists()`` rows) and the symbol's ``last_price``, so that the
        rebuilt trigger book fires and trails exactly as the lost one would.
        """
        book = OrderBook()
        count = 0
        priority_of = (priorities or {}).get
        for order_id, owner, side, price, remaining, is_open in rows:
            if is_open and remaining > 0:
                book.upsert(
                    order_id, owner, side, price, remaining, priority_of(order_id)
                )
                count += 1
        for row in stops:
            cmd = (*row[:7], 0, *row[7:10])
            book.upsert_stop(cmd, extreme=row[10], armed=row[11])
        for row in lists:
            book.upsert_list(*row)
        book.set_last_price(last_price)
        self.book = book
        self.seq = seq
        self.pending_seq = None
        return count

    def apply(self, rows: Iterable[OrderRow], seq: int) -> int:
        """Apply the rows that changed after ``self.seq``; open ones are put in (or
        updated) at their place by ``order_id``, closed ones removed. Caller holds the
        lock and the book is not stale."""
        book = self.book
        assert book is not None and self.pending_seq is None, "apply() on a stale book"
        count = 0
        for order_id, owner, side, price, remaining, is_open in rows:
            if is_open and remaining > 0:
                book.upsert(order_id, owner, side, price, remaining)
            else:
                book.remove(order_id)
            count += 1
        self.seq = seq
        return count


class BookRegistry:
    """Every symbol's slot in this process."""

    def __init__(self) -> None:
        self._slots: dict[str, BookSlot] = {}
        self._guard = threading.Lock()

    def slot(self, symbol: str) -> BookSlot:
        slot = self._slots.get(symbol)
        if slot is None:
            with self._guard:
                slot = self._slots.setdefault(symbol, BookSlot(symbol))
        return slot

    def items(self) -> list[tuple[str, BookSlot]]:
        with self._guard:
            return list(self._slots.items())

    def clear(self) -> None:
        """Forget every book (tests, and after a fork)."""
        with self._guard:
            self._slots.clear()


registry = BookRegistry()
