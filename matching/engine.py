"""A price-time priority limit order book for one symbol, with Binance Spot semantics.

Pure and deterministic: no I/O, no clock, no randomness, no floats. The caller owns
concurrency (one book is used by one thread at a time, under the pair lock) and
persistence (results are values it writes down; ``upsert``/``remove`` bring the book
in line with what was written).

Layout, chosen for CPython speed rather than elegance:

* an order resting on the book is an immutable tuple ``(remaining, owner, key)``
  (``key`` below) in ``_index`` by order_id; its level's queue holds only the id.
  Tuples of plain ints are dropped from the garbage collector's lists after its
  first look at them, so a book of a hundred thousand orders does not make every
  full collection walk a hundred thousand objects. A partial fill or an upsert in
  place replaces the tuple in the index only. Orders of a level share its ``key``
  object, which saves memory and a cache miss per cancel in a deep book, and
  tells a queued id whose order now rests on another level from one of its own;
* a price level is a 9-item list ``[total, count, queue, price, dead, side,
  head, key, newest]``: ``total`` lots and ``count`` orders are kept exact on
  every change, ``newest`` is at least the largest order_id queued (so a new
  order is appended without reading the queue's tail, which is cold in a deep
  book, and a cancel of the newest order pops the tail without reading it);
  ``queue`` is a plain list of order ids in increasing order, each at most once,
  whose live part starts at index ``head`` (matching advances ``head`` instead of
  shifting the list, and the consumed prefix is cut off once it is the larger
  half); ``dead`` counts the cancelled ids still in the live part (tombstones: a
  queued id is live exactly when the index maps it to an entry carrying this
  level's ``key`` object), which matching skips, checking liveness only while
  ``dead`` is non-zero, and which are purged once they are twice the live ones.
  A tombstone is only an id: the cancelled order's tuple is freed by the cancel
  itself, so a deep book with many cancels neither keeps dead tuples alive nor
  has the collector count and walk them;
* each side keeps its levels in a dict by key (``price`` for asks, ``-price`` for
  bids, so the best level has the smallest key on both sides) and the keys in a
  binary heap. A level emptied away from the top of the heap leaves its key behind
  as *stale* (recorded in ``stale``) instead of paying a linear removal; stale keys
  are popped when they reach the top and the heap is rebuilt when they outnumber the
  live levels. The top of each heap is always a live level, so the best prices,
  depth and every observable total are exact at all times.

Costs: placing or matching is O(log L) per level created or consumed (L = price
levels) plus O(1) per maker filled; cancel is O(1) amortised and never scans a
level; ``depth(n)`` walks the heap in O(n log n); nothing grows with the number of
resting orders.

Self-trade prevention follows the taker's mode. FOK is decided before anything is
touched: own makers (when the taker's mode is not NONE) never count as fillable,
and under EXPIRE_TAKER or EXPIRE_BOTH an own maker met before the quantity is
reached makes the order unfillable, so a FOK order either fills in full or expires
with no fill, no maker expired and the book untouched.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from heapq import heapify, heappop, heappush
from itertools import islice
from typing import Any

from matching.contingent import ContingentBook
from matching.contract import (
    BUY,
    CANCELED,
    EXPIRE_BOTH,
    EXPIRE_MAKER,
    EXPIRE_TAKER,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    FOK,
    GTC,
    INVALID_PRICE,
    INVALID_QTY,
    INVALID_STOP,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    MAX_PRICE,
    NEW,
    OCO,
    ORDER_TYPES,
    OTO,
    OTOCO,
    PARTIALLY_FILLED,
    PENDING_NEW,
    PRICE_RELATIONSHIP,
    REJECTED,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    STOP_TYPES,
    STP_MODES,
    STP_NONE,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    TIME_IN_FORCES,
    WOULD_TAKE,
    WOULD_TRIGGER,
    ListResult,
    NewOrder,
    OrderUpdate,
    PlaceResult,
    PlaceResultBuilder,
    Tracking,
    Triggered,
    make_result,
)
from matching.triggers import TriggerBook

__all__ = [
    "BUY",
    "CANCELED",
    "EXPIRED",
    "EXPIRED_IN_MATCH",
    "EXPIRE_BOTH",
    "EXPIRE_MAKER",
    "EXPIRE_TAKER",
    "FILLED",
    "FOK",
    "GTC",
    "IOC",
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "NEW",
    "PARTIALLY_FILLED",
    "REJECTED",
    "SELL",
    "STP_NONE",
    "MAX_PRICE",
    "INVALID_PRICE",
    "INVALID_QTY",
    "WOULD_TAKE",
    "NewOrder",
    "OrderBook",
    "PlaceResult",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
    "PENDING_NEW",
    "INVALID_STOP",
    "WOULD_TRIGGER",
    "PRICE_RELATIONSHIP",
    "OCO",
    "OTO",
    "OTOCO",
    "Triggered",
    "OrderUpdate",
    "Tracking",
    "ListResult",
]

# The result is built as a PlaceResultBuilder and turned into a PlaceResult in
# place (contract.py); typed as Any so the checker does not track the swap.
_new_result: Any = object.__new__

# Larger than any key a level can have (keys are +-price, price <= MAX_PRICE).
_NO_LIMIT = MAX_PRICE + 1

# How a taking pass ended.
_EXHAUSTED = 0  # nothing more on the book within the limit price
_DONE = 1  # quantity filled, or the quote budget cannot pay for one more lot
_SELF_TRADE = 2  # self-trade prevention expired the taker

# Purge thresholds for lazy deletion: small enough to bound memory, large enough
# that the purge cost is spread over many commands.
_STALE_SLACK = 64
_DEAD_SLACK = 16
_HEAD_SLACK = 32

OrderTuple = tuple[int, int, str, int, int]


def _queue_older(level: list, order_id: int) -> None:
    """Queue ``order_id`` at its place in ``level``, not being the newest there.

    The sync path (an upsert out of id order). A tombstone of this very id, left by
    a cancel, takes it back in its slot, so an id is queued at most once in the
    live part; that is what lets a cancel pop the newest order blind.
    """
    queue = level[2]
    at = bisect_left(queue, order_id, level[6])
    if at < len(queue) and queue[at] == order_id:
        level[4] -= 1
    else:
        queue.insert(at, order_id)


def _live_ids(level: list, index: dict) -> list[int]:
    """The live part of ``level``'s queue without its tombstones (a purge)."""
    get = index.get
    level_key = level[7]
    return [
        order_id
        for order_id in islice(level[2], level[6], None)
        if (entry := get(order_id)) is not None and entry[2] is level_key
    ]


class _Side:
    """One side of the book: levels by key and a heap of keys (see module doc)."""

    __slots__ = ("name", "sign", "levels", "heap", "stale")

    def __init__(self, name: str, sign: int) -> None:
        self.name = name
        self.sign = sign
        self.levels: dict[int, list] = {}
        self.heap: list[int] = []
        self.stale: set[int] = set()

    def drop_top(self) -> None:
        """Pop the top key, whose level was just removed, and any stale keys above."""
        heap = self.heap
        levels = self.levels
        heappop(heap)
        while heap and heap[0] not in levels:
            self.stale.remove(heappop(heap))

    def top(self, n: int) -> list[tuple[int, int]]:
        """``(price, total)`` of the best ``n`` live levels, best first."""
        levels = self.levels
        if n * 8 < len(levels):
            return [(level[3], level[0]) for level in islice(self.walk(), n)]
        # Most of the side: one sort in C beats a best-first walk in Python.
        return [(levels[key][3], levels[key][0]) for key in sorted(levels)[:n]]

    def walk(self, limit_key: int = _NO_LIMIT) -> Iterator[list]:
        """Yield live levels best first, up to ``limit_key``, without touching them.

        A best-first search over the heap's tree: O(k log k) for k nodes visited.
        """
        heap = self.heap
        levels = self.levels
        size = len(heap)
        if not size:
            return
        frontier = [(heap[0], 0)]
        while frontier:
            key, i = heappop(frontier)
            if key > limit_key:
                return
            level = levels.get(key)
            if level is not None:
                yield level
            child = 2 * i + 1
            if child < size:
                heappush(frontier, (heap[child], child))
                child += 1
                if child < size:
                    heappush(frontier, (heap[child], child))


class OrderBook(ContingentBook):
    """The resting orders of one symbol, its pending stop orders and order lists,
    and the rules that match new orders.

    Not thread-safe: the caller serialises every call for a book (the pair lock).
    Methods never raise for business outcomes; ``ValueError`` means the caller broke
    the contract (unknown enum, an order id that is already resting, an upsert that
    cannot rest, a cancel by order id of an order-list leg).

    Stops and lists live in ``matching.contingent`` and ``matching.triggers``; the
    hot paths pay one test of ``_watch`` for them, true while the book holds a
    pending stop, a live list leg, or an order resting under a priority other
    than its id (a triggered order: its queue place is its trigger's).
    """

    __slots__ = (
        "_bids",
        "_asks",
        "_index",
        "_last",
        "_watch",
        "_stops",
        "_alias",
        "_prio",
        "_lists",
        "_list_of",
        "_queued",
        "_moved",
    )

    def __init__(self) -> None:
        self._bids = _Side(BUY, -1)
        self._asks = _Side(SELL, 1)
        self._index: dict[int, tuple[int, int, int]] = {}
        self._last: int | None = None  # price of the last trade
        self._watch = False
        self._stops = TriggerBook()
        self._alias: dict[int, int] = {}  # book id (priority) -> order id
        self._prio: dict[int, int] = {}  # order id -> book id, for those above
        self._lists: dict[int, list] = {}
        self._list_of: dict[int, int] = {}  # live leg -> its list
        self._queued: dict[int, int] = {}  # within a command: started, not run
        self._moved: dict[int, int] = {}  # within a command: trailing stops moved

    # ------------------------------------------------------------------ commands

    def place(
        self,
        order_id: int,
        owner: int,
        side: str,
        order_type: str,
        tif: str = GTC,
        price: int = 0,
        qty: int = 0,
        quote_qty: int = 0,
        stp: str = STP_NONE,
        stop_price: int = 0,
        trailing_delta: int = 0,
    ) -> PlaceResult:
        """Match an order against the book and rest what its type and tif allow;
        a stop order goes to the trigger book instead. Then run what the trades
        set off (stops, order lists), reported in ``events``.

        Plain arguments, in ``NewOrder``'s order (``place(*cmd)`` for a kept
        command). The caller guarantees ``order_id`` is new (greater than the ids
        and the priorities before it); an id that is resting right now raises
        ``ValueError``. A remainder that rests is queued at its place by order_id
        within its level. ``stop_price`` and ``trailing_delta`` are read by stop
        types only.
        """
        index = self._index
        if order_id in index:
            raise ValueError(f"order {order_id} is already on the book")
        # The two commands that make up most of a real stream, GTC limits and
        # market orders by quantity without self-trade prevention, take a short
        # path; everything else, and every invalid command, goes the long way.
        if order_type == LIMIT:
            if (
                tif != GTC
                or stp != STP_NONE
                or qty <= 0
                or price <= 0
                or price > MAX_PRICE
                or quote_qty
            ):
                return self._place_slow(
                    order_id, owner, side, order_type, tif, price, qty, quote_qty, stp,
                    stop_price, trailing_delta,
                )  # fmt: skip
            if side == BUY:
                own = self._bids
                opp = self._asks
                key = -price
                limit_key = price
            elif side == SELL:
                own = self._asks
                opp = self._bids
                key = price
                limit_key = -price
            else:
                raise ValueError(f"unknown side {side!r}")
            fills: list = []
            heap = opp.heap
            if heap and heap[0] <= limit_key:
                left, quote = self._take(opp, limit_key, qty, fills)
                status = PARTIALLY_FILLED if left else FILLED
            else:
                left = qty
                quote = 0
                status = NEW
            if left:
                # _rest inlined.
                levels = own.levels
                level = levels.get(key)
                if level is None:
                    index[order_id] = (left, owner, key)
                    levels[key] = [left, 1, [order_id], price, 0, own, 0, key, order_id]
                    stale = own.stale
                    if key in stale:
                        stale.remove(key)
                    else:
                        heappush(own.heap, key)
                else:
                    index[order_id] = (left, owner, level[7])
                    if level[8] < order_id:
                        level[2].append(order_id)
                        level[8] = order_id
                    else:
                        _queue_older(level, order_id)
                    level[0] += left
                    level[1] += 1
            resting = left
        elif order_type == MARKET:
            if qty <= 0 or quote_qty or stp != STP_NONE or tif not in TIME_IN_FORCES:
                return self._place_slow(
                    order_id, owner, side, order_type, tif, price, qty, quote_qty, stp,
                    stop_price, trailing_delta,
                )  # fmt: skip
            if side == BUY:
                opp = self._asks
            elif side == SELL:
                opp = self._bids
            else:
                raise ValueError(f"unknown side {side!r}")
            fills = []
            left, quote = self._take(opp, _NO_LIMIT, qty, fills)
            status = EXPIRED if left else FILLED
            resting = 0
        else:
            return self._place_slow(
                order_id, owner, side, order_type, tif, price, qty, quote_qty, stp,
                stop_price, trailing_delta,
            )  # fmt: skip
        # make_result(...) inlined: this runs once per command.
        result = _new_result(PlaceResultBuilder)
        result.order_id = order_id
        result.status = status
        result.executed_qty = qty - left
        result.executed_quote = quote
        result.remaining = resting
        result.fills = fills
        result.expired_makers = []
        result.reject_reason = None
        result.events = ()
        result.__class__ = PlaceResult
        if self._watch:
            return self._settle(result, order_id)
        if fills:
            self._last = fills[-1][2]
        return result

    def _place_slow(
        self,
        order_id: int,
        owner: int,
        side: str,
        order_type: str,
        tif: str,
        price: int,
        qty: int,
        quote_qty: int,
        stp: str,
        stop_price: int,
        trailing_delta: int,
    ) -> PlaceResult:
        """``place`` for everything off the short paths."""
        result = self._place_checked(
            order_id, owner, side, order_type, tif, price, qty, quote_qty, stp,
            stop_price, trailing_delta,
        )  # fmt: skip
        if self._watch:
            return self._settle(result, order_id)
        fills = result.fills
        if fills:
            self._last = fills[-1][2]
        return result

    def cancel(self, order_id: int) -> int | None:
        """Take a resting order, or a pending stop order, off the book; return the
        lots removed, or None. An order-list leg is cancelled with its list
        (``cancel_list``); cancelling one by id raises ValueError."""
        if self._watch:
            return self._cancel_watched(order_id)
        return self._unrest(order_id)

    def _cancel_watched(self, order_id: int) -> int | None:
        list_id = self._list_of.get(order_id)
        if list_id is not None:
            raise ValueError(f"order {order_id} is a leg of order list {list_id}")
        record = self._stops.remove(order_id)
        if record is not None:
            self._rewatch()
            return record[6]
        book_id = self._prio.pop(order_id, None)
        if book_id is None:
            if order_id in self._alias:
                return None  # a priority, not an order id
            return self._unrest(order_id)
        del self._alias[book_id]
        lots = self._unrest(book_id)
        self._rewatch()
        return lots

    def _unrest(self, order_id: int) -> int | None:
        """Take the order resting under book id ``order_id`` off its level."""
        index = self._index
        entry = index.pop(order_id, None)
        if entry is None:
            return None
        key = entry[2]
        side = self._bids if key < 0 else self._asks
        levels = side.levels
        level = levels[key]
        lots = entry[0]
        count = level[1] - 1
        if not count:
            # The level goes with it (inline: most cancels in a thin book do this).
            del levels[key]
            heap = side.heap
            if heap[0] == key:
                side.drop_top()
                return lots
            stale = side.stale
            stale.add(key)
            if len(stale) > _STALE_SLACK and len(stale) > len(levels):
                heap[:] = levels
                heapify(heap)
                stale.clear()
            return lots
        level[0] -= lots
        level[1] = count
        # The newest order of a level is its queue's tail (ids are queued in
        # order, at most once in the live part), so it is popped without reading
        # the queue. Anything else becomes a tombstone, an id left queued with no
        # entry of this level behind it: its entry tuple is freed right away.
        if order_id == level[8]:
            level[2].pop()
            return lots
        dead = level[4] + 1
        if dead > _DEAD_SLACK and dead > count + count:
            level[2] = _live_ids(level, index)
            level[4] = level[6] = 0
        else:
            level[4] = dead
        return lots

    def remove(self, order_id: int) -> bool:
        """Take an order off the book or the trigger book (a sync step: the database
        closed it), without any order-list consequence; True if it was there."""
        if not self._watch:
            return self._unrest(order_id) is not None
        list_id = self._list_of.pop(order_id, None)
        if list_id is not None:
            order_list = self._lists[list_id]
            order_list[4].discard(order_id)
            order_list[3] = [leg for leg in order_list[3] if leg.order_id != order_id]
            if order_list[2] and order_id in order_list[2]:
                order_list[2] = [i for i in order_list[2] if i != order_id] or None
            if not order_list[4]:
                del self._lists[list_id]
        found = self._stops.remove(order_id) is not None
        if not found:
            book_id = self._prio.pop(order_id, None)
            if book_id is None:
                found = order_id not in self._alias and (
                    self._unrest(order_id) is not None
                )
            else:
                del self._alias[book_id]
                found = self._unrest(book_id) is not None
        self._rewatch()
        return found

    def upsert(
        self,
        order_id: int,
        owner: int,
        side: str,
        price: int,
        remaining: int,
        priority: int | None = None,
    ) -> None:
        """Make the book hold this resting order, as read from the database.

        A new order is queued at its place by order_id within its level, whatever
        the order of upsert calls. An order already resting keeps its place and gets
        the new remaining quantity (if its side, price or owner differ, it is moved
        to where those put it). O(log n) in the level's queue to find the place,
        plus a list insert for an order older than the level's newest. The book is
        not matched: while a sync is half done the book may cross, and the caller
        finishes the sync before placing. ``priority`` is the queue place of an
        order that started working after it was placed (``Triggered.priority``);
        by default its id.
        """
        if priority is not None and priority != order_id or self._watch:
            self._upsert_watched(order_id, owner, side, price, remaining, priority)
            return
        self._upsert_book(order_id, owner, side, price, remaining)

    def _upsert_watched(
        self,
        order_id: int,
        owner: int,
        side: str,
        price: int,
        remaining: int,
        priority: int | None,
    ) -> None:
        book_id = order_id if priority is None else priority
        if book_id in self._alias and self._alias[book_id] != order_id:
            raise ValueError(f"priority {book_id} belongs to another order")
        if book_id != order_id and order_id in self._index:
            raise ValueError(f"order {order_id} rests under its own id")
        if self._stops.get(order_id) is not None:
            self._stops.remove(order_id)
        old = self._prio.get(order_id)
        if old is not None and old != book_id:
            del self._prio[order_id]
            del self._alias[old]
            self._unrest(old)
        self._upsert_book(book_id, owner, side, price, remaining)
        if book_id != order_id:
            self._alias[book_id] = order_id
            self._prio[order_id] = book_id
        self._rewatch()

    def _upsert_book(
        self, order_id: int, owner: int, side: str, price: int, remaining: int
    ) -> None:
        if side == BUY:
            own = self._bids
        elif side == SELL:
            own = self._asks
        else:
            raise ValueError(f"unknown side {side!r}")
        if not 0 < price <= MAX_PRICE:
            raise ValueError(f"price {price} out of range")
        if remaining <= 0:
            raise ValueError(f"resting quantity must be positive, got {remaining}")
        index = self._index
        entry = index.get(order_id)
        if entry is not None:
            key = entry[2]
            if key == price * own.sign and entry[1] == owner:
                # Same place in the queue: only the entry changes.
                index[order_id] = (remaining, owner, key)
                own.levels[key][0] += remaining - entry[0]
                return
            self._unrest(order_id)
        self._rest(own, order_id, owner, price, remaining)

    # --------------------------------------------------------------------- reads

    def get(self, order_id: int) -> OrderTuple | None:
        """``(order_id, owner, side, price, remaining)`` of a resting order, or None."""
        if self._alias:
            if order_id in self._alias:
                return None  # a priority, not an order id
            order_id_in_book = self._prio.get(order_id, order_id)
            entry = self._index.get(order_id_in_book)
        else:
            entry = self._index.get(order_id)
        if entry is None:
            return None
        key = entry[2]
        if key < 0:
            return (order_id, entry[1], BUY, -key, entry[0])
        return (order_id, entry[1], SELL, key, entry[0])

    def orders(self) -> Iterator[OrderTuple]:
        """Every resting order: bids then asks, best price first, FIFO in a level."""
        get = self._index.get
        out = []
        for side in (self._bids, self._asks):
            name = side.name
            levels = side.levels
            for key in sorted(levels):
                level = levels[key]
                price = level[3]
                level_key = level[7]
                for order_id in islice(level[2], level[6], None):
                    entry = get(order_id)
                    if entry is not None and entry[2] is level_key:
                        out.append((order_id, entry[1], name, price, entry[0]))
        alias = self._alias
        if alias:
            out = [(alias.get(o[0], o[0]), *o[1:]) for o in out]
        return iter(out)

    def priorities(self) -> dict[int, int]:
        """``{order_id: priority}`` of the resting orders whose queue place is not
        their id (orders that started working after they were placed)."""
        return dict(self._prio)

    def best_bid(self) -> int | None:
        """Highest bid price in ticks, or None."""
        heap = self._bids.heap
        return -heap[0] if heap else None

    def best_ask(self) -> int | None:
        """Lowest ask price in ticks, or None."""
        heap = self._asks.heap
        return heap[0] if heap else None

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top ``n`` levels per side as ``(price, total_lots)``, best first.

        O(n log n) in the levels returned (a whole side, when asked for, is one
        sort of its keys); the orders in them are not visited.
        """
        if n <= 0:
            return [], []
        return self._bids.top(n), self._asks.top(n)

    def level_total(self, side: str, price: int) -> int:
        """Total lots resting at ``price`` (ticks) on ``side``; 0 for no level."""
        if side == BUY:
            level = self._bids.levels.get(-price)
        else:
            level = self._asks.levels.get(price)
        return level[0] if level is not None else 0

    def level_count(self) -> tuple[int, int]:
        """Number of live price levels on the bid and the ask side."""
        return len(self._bids.levels), len(self._asks.levels)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, order_id: object) -> bool:
        """Whether the order rests on the book (pending stops are not on it)."""
        if self._alias:
            if order_id in self._alias:
                return False
            return self._prio.get(order_id, order_id) in self._index  # type: ignore[call-overload]
        return order_id in self._index

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict:
        """The book as plain JSON-able data; ``restore`` rebuilds it exactly:
        resting orders with their priorities, the trigger book with each trailing
        stop's state, live order lists and the last trade price."""
        prio = self._prio
        return {
            "version": 2,
            "orders": [
                [*order, prio.get(order[0], order[0])] for order in self.orders()
            ],
            "stops": [list(record) for record in self.pending()],
            "lists": [
                [
                    list_id,
                    kind,
                    working,
                    list(group) if group else None,
                    [list(leg) for leg in legs],
                    list(members),
                ]
                for list_id, kind, working, group, legs, members in self.lists()
            ],
            "last_price": self._last,
        }

    @classmethod
    def restore(cls, snapshot: dict) -> OrderBook:
        """A book equal to the one ``snapshot`` was taken from, priorities included.

        Also the way to rebuild a book from the database: build the same dict from
        the rows (version 2; version 1 snapshots, resting orders only, still load).
        """
        version = snapshot.get("version")
        if version not in (1, 2):
            raise ValueError(f"unknown snapshot version {version!r}")
        book = cls()
        for order in snapshot["orders"]:
            order_id, owner, side, price, remaining = order[:5]
            priority = order[5] if len(order) > 5 else None
            book.upsert(order_id, owner, side, price, remaining, priority)
        for record in snapshot.get("stops", ()):
            cmd = (*record[:7], 0, *record[7:10])
            book.upsert_stop(cmd, extreme=record[10], armed=record[11])
        for list_id, kind, working, group, legs, members in snapshot.get("lists", ()):
            book.upsert_list(list_id, kind, working, group, legs, members)
        book.set_last_price(snapshot.get("last_price"))
        return book

    # ---------------------------------------------------------------- invariants

    def check_invariants(self) -> None:
        """Raise AssertionError unless the book is internally consistent.

        Checks: the book is not crossed; the id index holds exactly the live orders
        of the levels; level totals, counts and tombstone counts are exact; no empty
        level remains; every remaining quantity is positive; queues are in order_id
        order; the lazy heap bookkeeping is exact; the trigger book's heaps and
        tracking set are exact; every live list leg is in exactly one place
        (resting, pending in the trigger book, or pending new); the priority maps
        agree with each other and with the book.
        """
        index = self._index
        seen = 0
        for side in (self._bids, self._asks):
            heap, levels, stale = side.heap, side.levels, side.stale
            assert set(heap) == set(levels) | stale, "heap keys != levels + stale"
            assert not (set(levels) & stale), "a live level is marked stale"
            assert len(heap) == len(set(heap)), "duplicate key in heap"
            for i in range(1, len(heap)):
                assert heap[(i - 1) // 2] <= heap[i], "heap order broken"
            assert not heap or heap[0] in levels, "stale key at the top"
            for key, level in levels.items():
                (
                    total,
                    count,
                    queue,
                    price,
                    dead,
                    owner_side,
                    head,
                    level_key,
                    newest,
                ) = level
                assert owner_side is side, "level on the wrong side"
                assert key == price * side.sign, "level filed under the wrong key"
                assert 0 < price <= MAX_PRICE, "price out of range"
                assert 0 <= head < len(queue), f"level {price} head out of range"
                assert level_key == key, f"level {price} has the wrong key"
                assert newest >= queue[-1], f"level {price} newest id too low"
                part = queue[head:]
                assert all(a < b for a, b in zip(part, part[1:], strict=False)), (
                    f"level {price} not in order_id order, or an id queued twice"
                )
                live = [
                    index[i] for i in part if index.get(i, (0, 0, 0))[2] is level_key
                ]
                assert count > 0, f"empty level {price} left behind"
                assert count == len(live), f"level {price} count {count} != {len(live)}"
                assert dead == len(part) - len(live), f"level {price} tombstones"
                assert total == sum(e[0] for e in live), f"level {price} total wrong"
                for entry in live:
                    assert entry[0] > 0, "non-positive remaining"
                seen += count
        assert seen == len(index), "index holds orders that are not on a level"
        bid, ask = self.best_bid(), self.best_ask()
        assert bid is None or ask is None or bid < ask, f"crossed book {bid} >= {ask}"
        assert not self._queued and not self._moved, "a command left work behind"
        self._check_contingent()

    # ------------------------------------------------------------------ internals

    def _place_checked(
        self,
        order_id: int,
        owner: int,
        side: str,
        order_type: str,
        tif: str,
        price: int,
        qty: int,
        quote_qty: int,
        stp: str,
        stop_price: int = 0,
        trailing_delta: int = 0,
    ) -> PlaceResult:
        """One order's own execution, for every command: full validation, STP,
        IOC, FOK, by quote, stop orders into the trigger book. Nothing set off by
        its trades runs here (``_settle`` does that)."""
        if side == BUY:
            own = self._bids
            opp = self._asks
        elif side == SELL:
            own = self._asks
            opp = self._bids
        else:
            raise ValueError(f"unknown side {side!r}")
        if tif not in TIME_IN_FORCES:
            raise ValueError(f"unknown time in force {tif!r}")
        if stp not in STP_MODES:
            raise ValueError(f"unknown self-trade prevention mode {stp!r}")
        if order_type not in ORDER_TYPES:
            if order_type in STOP_TYPES:
                return self._place_stop(
                    NewOrder(
                        order_id,
                        owner,
                        side,
                        order_type,
                        tif,
                        price,
                        qty,
                        quote_qty,
                        stp,
                        stop_price,
                        trailing_delta,
                    )  # fmt: skip
                )
            raise ValueError(f"unknown order type {order_type!r}")
        fills: list = []
        expired: list = []

        if order_type == MARKET:
            budget = quote_qty
            if qty < 0 or budget < 0 or (qty == 0) == (budget == 0):
                return make_result(
                    order_id, REJECTED, 0, 0, 0, fills, expired, INVALID_QTY
                )
            done, quote, outcome = self._take_checked(
                opp, _NO_LIMIT, qty, budget, owner, stp, fills, expired
            )
            if outcome == _SELF_TRADE:
                status = EXPIRED_IN_MATCH
            elif outcome == _DONE and done:
                # By lots, _DONE means all lots filled; by quote, that the budget
                # left cannot pay for one lot at the next maker's price.
                status = FILLED
            else:
                status = EXPIRED
            return make_result(order_id, status, done, quote, 0, fills, expired, None)

        if qty <= 0 or quote_qty:
            return make_result(order_id, REJECTED, 0, 0, 0, fills, expired, INVALID_QTY)
        if price <= 0 or price > MAX_PRICE:
            return make_result(
                order_id, REJECTED, 0, 0, 0, fills, expired, INVALID_PRICE
            )
        limit_key = price * opp.sign
        heap = opp.heap
        crosses = bool(heap) and heap[0] <= limit_key
        if order_type == LIMIT_MAKER:
            if crosses:
                return make_result(
                    order_id, REJECTED, 0, 0, 0, fills, expired, WOULD_TAKE
                )
            self._rest(own, order_id, owner, price, qty)
            return make_result(order_id, NEW, 0, 0, qty, fills, expired, None)

        done = quote = 0
        outcome = _EXHAUSTED
        if crosses:
            if tif == FOK and not self._fillable(opp, limit_key, qty, owner, stp):
                return make_result(order_id, EXPIRED, 0, 0, 0, fills, expired, None)
            done, quote, outcome = self._take_checked(
                opp, limit_key, qty, 0, owner, stp, fills, expired
            )
        left = qty - done
        if not left:
            return make_result(order_id, FILLED, done, quote, 0, fills, expired, None)
        if outcome == _SELF_TRADE:
            status = EXPIRED_IN_MATCH
        elif tif == GTC:
            self._rest(own, order_id, owner, price, left)
            status = PARTIALLY_FILLED if done else NEW
            return make_result(
                order_id, status, done, quote, left, fills, expired, None
            )
        else:
            status = EXPIRED
        return make_result(order_id, status, done, quote, 0, fills, expired, None)

    def _rest(
        self, own: _Side, order_id: int, owner: int, price: int, qty: int
    ) -> None:
        """Queue an order on its own side at its place by order_id (no matching)."""
        key = price * own.sign
        level = own.levels.get(key)
        if level is None:
            self._index[order_id] = (qty, owner, key)
            own.levels[key] = [qty, 1, [order_id], price, 0, own, 0, key, order_id]
            stale = own.stale
            if key in stale:
                stale.remove(key)
            else:
                heappush(own.heap, key)
        else:
            self._index[order_id] = (qty, owner, level[7])
            if level[8] < order_id:
                level[2].append(order_id)
                level[8] = order_id
            else:
                _queue_older(level, order_id)
            level[0] += qty
            level[1] += 1

    def _take(
        self, opp: _Side, limit_key: int, qty: int, fills: list
    ) -> tuple[int, int]:
        """Fill up to ``qty`` lots from ``opp`` within ``limit_key``, no STP checks.

        Returns ``(lots left, quote executed)``.
        """
        heap = opp.heap
        levels = opp.levels
        index = self._index
        pop = index.pop
        append = fills.append
        left = qty
        quote = 0
        while heap:
            key = heap[0]
            if key > limit_key:
                break
            level = levels[key]
            price = level[3]
            total = level[0]
            if total <= left:
                # The whole level goes: no per-order bookkeeping on the level.
                queue = level[2]
                head = level[6]
                if level[4]:
                    level_key = level[7]
                    for maker_id in islice(queue, head, None):
                        entry = pop(maker_id, None)
                        if entry is None:
                            continue
                        if entry[2] is not level_key:
                            index[maker_id] = entry  # resting on another level
                            continue
                        append((maker_id, entry[1], price, entry[0], 0))
                else:
                    for maker_id in queue[head:] if head else queue:
                        entry = index[maker_id]
                        del index[maker_id]
                        append((maker_id, entry[1], price, entry[0], 0))
                left -= total
                quote += total * price
                del levels[key]
                heappop(heap)
                while heap and heap[0] not in levels:
                    opp.stale.remove(heappop(heap))
                if not left:
                    break
                continue
            # The level outlives the taker, so the taker ends here.
            queue = level[2]
            i = level[6]
            dead = level[4]
            level_key = level[7]
            want = left
            while True:
                maker_id = queue[i]
                if dead:
                    entry = index.get(maker_id)
                    if entry is None or entry[2] is not level_key:
                        i += 1
                        dead -= 1
                        continue
                else:
                    entry = index[maker_id]
                lots = entry[0]
                if lots <= want:
                    i += 1
                    del index[maker_id]
                    append((maker_id, entry[1], price, lots, 0))
                    level[1] -= 1
                    want -= lots
                    if not want:
                        break
                else:
                    lots -= want
                    index[maker_id] = (lots, entry[1], level_key)
                    append((maker_id, entry[1], price, want, lots))
                    break
            if i > _HEAD_SLACK and i + i > len(queue):
                del queue[:i]
                i = 0
            level[6] = i
            level[4] = dead
            level[0] = total - left
            quote += left * price
            left = 0
            break
        return left, quote

    def _take_checked(
        self,
        opp: _Side,
        limit_key: int,
        qty: int,
        budget: int,
        owner: int,
        stp: str,
        fills: list,
        expired: list,
    ) -> tuple[int, int, int]:
        """Fill from ``opp`` by lots (``qty`` > 0) or by quote ``budget``, with STP.

        Makers are met in priority order. By quote, the taker stops at the first
        maker whose price its remaining budget cannot pay for one lot of. An own
        maker (same owner, ``stp`` not NONE) is expired under EXPIRE_MAKER and
        EXPIRE_BOTH and stops the taker under EXPIRE_TAKER and EXPIRE_BOTH.
        Returns ``(lots executed, quote executed, outcome)``.
        """
        heap = opp.heap
        levels = opp.levels
        index = self._index
        get = index.get
        append = fills.append
        by_quote = not qty
        check_self = stp != STP_NONE
        expire_maker = stp == EXPIRE_MAKER or stp == EXPIRE_BOTH
        expire_taker = stp == EXPIRE_TAKER or stp == EXPIRE_BOTH
        left = qty
        done = 0
        quote = 0
        outcome = _EXHAUSTED
        while heap:
            key = heap[0]
            if key > limit_key:
                break
            level = levels[key]
            price = level[3]
            queue = level[2]
            i = level[6]
            level_key = level[7]
            while level[1]:
                maker_id = queue[i]
                entry = get(maker_id)
                if level[4] and (entry is None or entry[2] is not level_key):
                    i += 1
                    level[4] -= 1
                    continue
                if by_quote:
                    want = budget // price
                    if not want:
                        outcome = _DONE
                        break
                else:
                    want = left
                lots = entry[0]  # type: ignore[index]  # a queued id is live here
                maker_owner = entry[1]  # type: ignore[index]
                if check_self and maker_owner == owner:
                    if expire_maker:
                        i += 1
                        del index[maker_id]
                        level[0] -= lots
                        level[1] -= 1
                        expired.append((maker_id, owner, lots))
                    if expire_taker:
                        outcome = _SELF_TRADE
                        break
                    continue
                if lots <= want:
                    i += 1
                    del index[maker_id]
                    level[1] -= 1
                    append((maker_id, maker_owner, price, lots, 0))
                    take = lots
                else:
                    index[maker_id] = (lots - want, maker_owner, level_key)
                    append((maker_id, maker_owner, price, want, lots - want))
                    take = want
                level[0] -= take
                done += take
                quote += take * price
                if by_quote:
                    budget -= take * price
                    if not budget:
                        outcome = _DONE
                        break
                else:
                    left -= take
                    if not left:
                        outcome = _DONE
                        break
            if not level[1]:
                del levels[key]
                heappop(heap)
                while heap and heap[0] not in levels:
                    opp.stale.remove(heappop(heap))
            else:
                if i > _HEAD_SLACK and i + i > len(queue):
                    del queue[:i]
                    i = 0
                level[6] = i
            if outcome != _EXHAUSTED:
                break
        return done, quote, outcome

    def _fillable(
        self, opp: _Side, limit_key: int, qty: int, owner: int, stp: str
    ) -> bool:
        """Whether a FOK taker of ``qty`` lots would fill in full (see module doc)."""
        need = qty
        if stp == STP_NONE:
            for level in opp.walk(limit_key):
                need -= level[0]
                if need <= 0:
                    return True
            return False
        blocked_by_own = stp != EXPIRE_MAKER
        get = self._index.get
        for level in opp.walk(limit_key):
            level_key = level[7]
            for maker_id in islice(level[2], level[6], None):
                entry = get(maker_id)
                if entry is None or entry[2] is not level_key:
                    continue
                if entry[1] == owner:
                    if blocked_by_own:
                        return False
                    continue
                need -= entry[0]
                if need <= 0:
                    return True
        return False
