"""Bringing the process's book for a pair up to date with the database.

The symbol row carries ``book_seq``; each order row carries the seq of its last
change. A process whose book is behind applies the rows changed since (put in,
updated or removed, each at its place in arrival order); a stale book is rebuilt
from the live orders. Caller holds the pair lock.

Besides resting orders, the book holds what the database says waits: pending stop
orders (rows in the trigger book, with their trailing state), orders resting
under a priority other than their id (a triggered stop, an activated list leg),
and the live order lists with their PENDING_NEW legs. All of it comes back from
the same rows, so a restart or another process sees it.
"""

from __future__ import annotations

from django.db.models import Q

from exchange.metrics import BOOK_SYNC_ROWS
from matching import engine
from matching.registry import BookSlot
from trading.models import (
    LIVE_STATUSES,
    OPEN_STATUSES,
    STOP_TYPES,
    Order,
    OrderList,
    Trade,
)
from trading.symbols.specs import SymbolSpec

_BOOK_FIELDS = (
    "order_id",
    "user_id",
    "side",
    "price",
    "orig_qty",
    "executed_qty",
    "status",
    "type",
    "time_in_force",
    "self_trade_prevention_mode",
    "stop_price",
    "trailing_delta",
    "trail_extreme",
    "working_time",
    "priority",
    "order_list_id",
)

# Symbols whose book in this process may not know the last trade price (rebuilt,
# or synced with another process's trades): stops need it, plain orders do not,
# so it is read only when something contingent is about.
_LAST_PRICE_UNKNOWN: set[str] = set()


def book_sync(slot: BookSlot, row, spec: SymbolSpec) -> engine.OrderBook:
    """Bring the process's book up to ``row.book_seq``. Caller holds both locks.

    The rows changed after the slot's seq may have come with the lock
    (``row.changes``, PostgreSQL); otherwise they are read here."""
    if not slot.stale and slot.seq == row.book_seq:
        return _built(slot)
    if slot.stale:
        plain, special = _split(list(_open_rows(row.symbol)), spec)
        applied = slot.rebuild(plain, row.book_seq)
        book = _built(slot)
        _special_apply(book, special, spec)
        _lists_apply(book, row.symbol, None, spec)
    else:
        changes = getattr(row, "changes", None)
        if changes is None:
            query = Order.objects.filter(symbol_id=row.symbol, seq__gt=slot.seq)
            changes = query.values_list(*_BOOK_FIELDS)
        rows = list(changes)
        plain, special = _split(rows, spec)
        applied = slot.apply(plain, row.book_seq)
        book = _built(slot)
        _special_apply(book, special, spec)
        list_ids = {r[15] for r in rows if r[15] != -1}
        if list_ids:
            _lists_apply(book, row.symbol, list_ids, spec)
    _LAST_PRICE_UNKNOWN.add(row.symbol)
    BOOK_SYNC_ROWS.labels(row.symbol).observe(applied)
    return book


def book_last_price_ensure(symbol: str, book: engine.OrderBook, spec) -> None:
    """Tell the book the symbol's last trade price if it may not know it. Caller
    holds the pair lock; called before anything that reads it (a stop or list is
    placed, or the book holds stops or lists that a trade may fire)."""
    if symbol not in _LAST_PRICE_UNKNOWN:
        return
    last = (
        Trade.objects.filter(symbol_id=symbol)
        .order_by("-trade_id")
        .values_list("price", flat=True)
        .first()
    )
    book.set_last_price(None if last is None else int(last / spec.tick_size))
    _LAST_PRICE_UNKNOWN.discard(symbol)


def book_is_contingent(book: engine.OrderBook) -> bool:
    """Whether the book holds pending stops, live lists or re-prioritised orders."""
    return bool(book.pending_count() or book.lists() or book.priorities())


def _built(slot: BookSlot) -> engine.OrderBook:
    book = slot.book
    assert book is not None, "a synced slot holds a book"
    return book


def _open_rows(symbol: str):
    query = Order.objects.filter(symbol_id=symbol, status__in=LIVE_STATUSES)
    return query.order_by("order_id").values_list(*_BOOK_FIELDS)


def book_rows_open(symbol: str, spec: SymbolSpec):
    """Every resting order of the symbol as the book takes it, in arrival order
    (pending stops and pending list legs are not on the book)."""
    plain, _ = _split(list(_open_rows(symbol)), spec)
    return plain


def _split(rows, spec: SymbolSpec) -> tuple[list, list]:
    """Rows as the registry takes plain orders (put in or removed by id), and the
    others: pending stops and orders resting under another priority."""
    tick, step = spec.tick_size, spec.step_size
    plain = []
    special = []
    for r in rows:
        order_id, user_id, side, price, orig, executed, status = r[:7]
        order_type, working_time, priority = r[7], r[13], r[14]
        is_open = status in OPEN_STATUSES
        if status == "PENDING_NEW":
            continue  # lives in its list only
        if is_open and (
            (order_type in STOP_TYPES and working_time is None)
            or (priority is not None and priority != order_id)
        ):
            special.append(r)
            continue
        plain.append(
            (
                order_id,
                user_id,
                side,
                int(price / tick),
                int((orig - executed) / step),
                is_open,
            )
        )
    return plain, special


def _special_apply(book: engine.OrderBook, rows, spec: SymbolSpec) -> None:
    tick, step = spec.tick_size, spec.step_size
    for r in rows:
        order_id, user_id, side, price, orig, executed = r[:6]
        lots = int((orig - executed) / step)
        if r[13] is None:
            book.upsert_stop(
                _command(r, spec),
                extreme=None if r[12] is None else int(r[12] / tick),
                armed=bool(r[10]) and r[12] is None,
            )
        else:
            book.upsert(order_id, user_id, side, int(price / tick), lots, r[14])


def _command(r, spec: SymbolSpec) -> engine.NewOrder:
    tick, step = spec.tick_size, spec.step_size
    return engine.NewOrder(
        order_id=r[0],
        owner=r[1],
        side=r[2],
        type=r[7],
        tif=r[8] or engine.GTC,
        price=int(r[3] / tick),
        qty=int((r[4] - r[5]) / step),
        stp=r[9],
        stop_price=int(r[10] / tick),
        trailing_delta=r[11],
    )


def _lists_apply(book, symbol: str, list_ids, spec: SymbolSpec) -> None:
    """Make the book know these order lists (all live ones when None) as the
    database has them."""
    lists = OrderList.objects.filter(symbol_id=symbol)
    if list_ids is None:
        lists = lists.filter(list_status_type="EXEC_STARTED")
    else:
        lists = lists.filter(id__in=list_ids)
    kinds = dict(lists.values_list("id", "kind"))
    if not kinds:
        return
    legs: dict[int, list] = {list_id: [] for list_id in kinds}
    query = Order.objects.filter(symbol_id=symbol, order_list_id__in=list(kinds))
    for r in query.order_by("order_id").values_list(*_BOOK_FIELDS):
        legs[r[15]].append(r)
    for list_id, kind in kinds.items():
        book.upsert_list(list_id, *_list_state(kind, legs[list_id], spec))


def _list_state(kind: str, legs: list, spec: SymbolSpec) -> tuple:
    """``(kind, working_id, oco_group, pending_legs, live_leg_ids)`` of a list
    from its legs' rows, in order_id order, as ``OrderBook.upsert_list`` takes."""
    live = [r[0] for r in legs if r[6] in LIVE_STATUSES]
    pending = [_command(r, spec) for r in legs if r[6] == "PENDING_NEW"]
    # An OCO pair cancels itself the moment one leg starts working or ends, so
    # it is unresolved exactly while both its legs are live.
    if kind == "OCO":
        group = [r[0] for r in legs] if len(live) == len(legs) else None
        return kind, None, group, pending, live
    working = legs[0]
    group = None
    if kind == "OTOCO" and working[6] == "FILLED":
        pair = [r[0] for r in legs[1:]]
        if all(order_id in live for order_id in pair):
            group = pair
    return kind, working[0], group, pending, live


def pending_stops_filter() -> Q:
    """Open rows that wait in the trigger book rather than rest on the book."""
    return Q(type__in=STOP_TYPES, working_time__isnull=True)


def book_order_put(book: engine.OrderBook, order: Order, spec: SymbolSpec) -> None:
    """Make the book hold ``order`` as its row now says (an amendment). Its list,
    if any, is refreshed from the database by ``book_lists_refresh``."""
    r = tuple(getattr(order, name) for name in _BOOK_FIELDS)
    plain, special = _split([r], spec)
    for order_id, owner, side, price, remaining, is_open in plain:
        if is_open and remaining > 0:
            book.upsert(order_id, owner, side, price, remaining)
        else:
            book.remove(order_id)
    _special_apply(book, special, spec)


def book_lists_refresh(book: engine.OrderBook, symbol: str, list_ids, spec) -> None:
    """Make the book know these lists as the database has them now."""
    _lists_apply(book, symbol, set(list_ids), spec)
