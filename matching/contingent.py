"""Stop orders and order lists on top of the plain book: the slow path.

``OrderBook`` inherits these methods. They run only while the book holds something
beyond plain resting orders (a pending stop, a live order-list leg, or an order
resting under a priority other than its id): the book's ``_watch`` flag says so,
and the hot paths test it once per command.

One command settles completely before it returns, in this defined order:

1. the command's own execution (the taker), which is atomic: everything below
   sees it whole;
2. its order-list consequences: for each fill in execution order, the maker's
   (an OCO leg that trades expires its other leg; an OTO working order that is
   filled activates its pending legs), then those of the makers self-trade
   prevention expired, then of the taker's own fate;
3. its trade prices in execution order, fed to the trigger book, whose fired
   stops (in order_id order) expire their OCO other leg and join the queue of
   orders to execute;
4. the next order in the queue (first in, first out) executes as a taker under
   a fresh priority (the command's id + 1, + 2, ...) and goes through 2-4.

Trailing stops that moved are reported last, once each, with their final state.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from matching.contract import (
    ALL_ORDER_TYPES,
    BIPS,
    BUY,
    CANCELED,
    EXPIRED,
    FILLED,
    INVALID_PRICE,
    INVALID_QTY,
    INVALID_STOP,
    LIMIT,
    LIMIT_MAKER,
    LIST_KINDS,
    MARKET,
    MAX_PRICE,
    NEW,
    OCO,
    OTOCO,
    PENDING_NEW,
    PRICE_RELATIONSHIP,
    REJECTED,
    SELL,
    STOP_LOSS_LIMIT,
    STOP_TYPES,
    STP_MODES,
    TAKE_PROFIT_LIMIT,
    TIME_IN_FORCES,
    WOULD_TAKE,
    WOULD_TRIGGER,
    ListResult,
    NewOrder,
    OrderUpdate,
    PlaceResult,
    Tracking,
    Triggered,
)
from matching.triggers import (
    ARMED,
    DELTA,
    EXTREME,
    ID,
    OWNER,
    PRICE,
    QTY,
    SIDE,
    STP,
    TIF,
    TYPE,
    fires_up,
    stop_met,
)

if TYPE_CHECKING:
    from matching.engine import OrderTuple, _Side
    from matching.triggers import TriggerBook

# An order list: [kind, working_id, oco_group, pending_legs, members]. ``oco_group``
# is the ids of legs that still cancel each other (None once resolved, or before
# an OTOCO's pending pair is activated); ``pending_legs`` the PENDING_NEW legs as
# NewOrder tuples; ``members`` the ids of every leg still live (resting, pending
# in the trigger book, or pending new).
KIND, WORKING, GROUP, PENDING, MEMBERS = range(5)

_LIMIT_TYPES = frozenset({LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT})


def _stop_record(cmd: NewOrder, last: int | None) -> list:
    """A trigger-book record for a stop order entering the trigger book now."""
    armed = cmd.stop_price > 0
    extreme = None if armed else last
    return [
        cmd.order_id,
        cmd.owner,
        cmd.side,
        cmd.type,
        cmd.tif,
        cmd.price,
        cmd.qty,
        cmd.stp,
        cmd.stop_price,
        cmd.trailing_delta,
        extreme,
        armed,
    ]


def _working_args(record: list) -> tuple:
    """``(type, tif, price)`` of the order a fired stop becomes."""
    if record[TYPE] in (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
        return LIMIT, record[TIF], record[PRICE]
    return MARKET, record[TIF], 0


def _above(cmd: NewOrder) -> bool:
    """Whether an OCO leg is the one above the market (see ``place_list``)."""
    if cmd.type == LIMIT_MAKER:
        return cmd.side == SELL
    return fires_up(cmd.type, cmd.side)


def _reference_price(cmd: NewOrder) -> int:
    """The price an OCO leg is held against the last price by (0: none)."""
    return cmd.price if cmd.type == LIMIT_MAKER else cmd.stop_price


class ContingentBook:
    """Stop orders, order lists and priorities; mixed into ``OrderBook``."""

    if not TYPE_CHECKING:
        __slots__ = ()
    else:
        # What the mixin uses of OrderBook, declared for the type checker only
        # (OrderBook's own __slots__ and __init__ define them).
        _bids: _Side
        _asks: _Side
        _index: dict[int, tuple[int, int, int]]
        _last: int | None
        _watch: bool
        _stops: TriggerBook
        _alias: dict[int, int]
        _prio: dict[int, int]
        _lists: dict[int, list]
        _list_of: dict[int, int]
        _queued: dict[int, int]
        _moved: dict[int, int]

        def get(self, order_id: int) -> OrderTuple | None: ...

        def __contains__(self, order_id: int) -> bool: ...  # type: ignore[empty-body]

        def _unrest(self, order_id: int) -> int | None: ...

        def _place_checked(  # type: ignore[empty-body]
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
        ) -> PlaceResult: ...

    # ------------------------------------------------------------- validation

    def _check_leg(self, cmd: NewOrder) -> str | None:
        """A reject reason for one order on its own, or None. Raises ValueError
        for an unknown enum (the caller's contract)."""
        if cmd.side not in (BUY, SELL):
            raise ValueError(f"unknown side {cmd.side!r}")
        if cmd.type not in ALL_ORDER_TYPES:
            raise ValueError(f"unknown order type {cmd.type!r}")
        if cmd.tif not in TIME_IN_FORCES:
            raise ValueError(f"unknown time in force {cmd.tif!r}")
        if cmd.stp not in STP_MODES:
            raise ValueError(f"unknown self-trade prevention mode {cmd.stp!r}")
        if cmd.qty <= 0 or cmd.quote_qty:
            if cmd.type != MARKET:
                return INVALID_QTY
            if (
                cmd.qty < 0
                or cmd.quote_qty < 0
                or (cmd.qty == 0) == (cmd.quote_qty == 0)
            ):
                return INVALID_QTY
        if cmd.type in _LIMIT_TYPES and not 0 < cmd.price <= MAX_PRICE:
            return INVALID_PRICE
        if cmd.type in STOP_TYPES:
            stop, delta = cmd.stop_price, cmd.trailing_delta
            if stop < 0 or stop > MAX_PRICE or delta < 0 or delta >= BIPS:
                return INVALID_STOP
            if not stop and not delta:
                return INVALID_STOP
        return None

    # ------------------------------------------------------------- stop orders

    def _place_stop(self, cmd: NewOrder) -> PlaceResult:
        """Accept a stop order into the trigger book (it never trades now)."""
        reason = self._check_leg(cmd)
        last = self._last
        if (
            reason is None
            and cmd.stop_price
            and last is not None
            and stop_met(cmd.type, cmd.side, cmd.stop_price, last)
        ):
            reason = WOULD_TRIGGER
        if reason is not None:
            return PlaceResult(cmd.order_id, REJECTED, 0, 0, 0, [], [], reason)
        record = _stop_record(cmd, last)
        self._stops.add(record)
        if record[EXTREME] is not None:
            self._moved[cmd.order_id] = record[EXTREME]
        self._watch = True
        return PlaceResult(cmd.order_id, NEW, 0, 0, 0, [], [], None)

    # ------------------------------------------------------------- order lists

    def place_list(self, kind: str, list_id: int, legs) -> ListResult:
        """Place an order list: OCO ``(leg, leg)``, OTO ``(working, pending)`` or
        OTOCO ``(working, pending, pending)``, each leg a ``NewOrder``.

        Caller's contract (ValueError otherwise): legs share owner and, but for
        an OTO's working and pending, side; their ids are new and increasing; an
        OCO pair is one leg above the market (a SELL LIMIT_MAKER, or a stop met
        from below: STOP_LOSS BUY, TAKE_PROFIT SELL) and one below, at least one a
        stop type; a working order is LIMIT or LIMIT_MAKER; a pending order is
        not a MARKET by quote. Refusals as values: a leg's own reason
        (INVALID_QTY, INVALID_PRICE, INVALID_STOP, WOULD_TAKE, WOULD_TRIGGER), or
        PRICE_RELATIONSHIP when an OCO's above price is not above its below price
        and, for an OCO placed now, the last trade price strictly between them.
        A refused list touches nothing.
        """
        if kind not in LIST_KINDS:
            raise ValueError(f"unknown order list kind {kind!r}")
        legs = tuple(NewOrder(*leg) for leg in legs)
        expected = 2 if kind != OTOCO else 3
        if len(legs) != expected:
            raise ValueError(f"{kind} takes {expected} legs, got {len(legs)}")
        if list_id in self._lists:
            raise ValueError(f"order list {list_id} is already live")
        ids = [leg.order_id for leg in legs]
        if ids != sorted(set(ids)):
            raise ValueError("leg ids must be distinct and increasing")
        for order_id in ids:
            if order_id in self or order_id in self._stops or order_id in self._list_of:
                raise ValueError(f"order {order_id} is already live")
        if len({leg.owner for leg in legs}) != 1:
            raise ValueError("the legs of a list belong to one owner")
        for leg in legs:
            reason = self._check_leg(leg)
            if reason is not None:
                return ListResult(list_id, reason, ())
        if kind == OCO:
            pair = legs
        else:
            working = legs[0]
            if working.type not in (LIMIT, LIMIT_MAKER):
                raise ValueError("the working order is LIMIT or LIMIT_MAKER")
            for leg in legs[1:]:
                if leg.type == MARKET and leg.quote_qty:
                    raise ValueError("a pending order cannot be MARKET by quote")
            pair = legs[1:] if kind == OTOCO else ()
        if pair:
            reason = self._check_pair(pair, now=kind == OCO)
            if reason is not None:
                return ListResult(list_id, reason, ())

        if kind == OCO:
            results = []
            for leg in legs:
                if leg.type == LIMIT_MAKER:
                    results.append(self._place_checked(*leg))
                else:
                    results.append(self._place_stop(leg))
            self._lists[list_id] = [kind, None, list(ids), [], set(ids)]
            for order_id in ids:
                self._list_of[order_id] = list_id
            self._watch = True
            events: list = []
            self._tracking_events(events)
            return ListResult(list_id, None, tuple(results), tuple(events))

        # OTO and OTOCO: the working order executes now, the rest waits for it.
        working = legs[0]
        if working.type == LIMIT_MAKER:
            opposite = self._asks if working.side == BUY else self._bids
            heap = opposite.heap
            if heap and heap[0] <= working.price * opposite.sign:
                return ListResult(list_id, WOULD_TAKE, ())
        self._lists[list_id] = [kind, working.order_id, None, list(legs[1:]), set(ids)]
        for order_id in ids:
            self._list_of[order_id] = list_id
        self._watch = True
        result = self._place_checked(*working)
        settled = self._settle(result, ids[-1])
        pending = tuple(
            PlaceResult(leg.order_id, PENDING_NEW, 0, 0, 0, [], [], None)
            for leg in legs[1:]
        )
        own = PlaceResult(
            settled.order_id,
            settled.status,
            settled.executed_qty,
            settled.executed_quote,
            settled.remaining,
            settled.fills,
            settled.expired_makers,
            settled.reject_reason,
        )
        return ListResult(list_id, None, (own, *pending), settled.events)

    def _check_pair(self, pair: tuple, now: bool) -> str | None:
        above = [leg for leg in pair if _above(leg)]
        below = [leg for leg in pair if not _above(leg)]
        if len(above) != 1 or len(below) != 1:
            raise ValueError("an OCO pair is one leg above and one below")
        if pair[0].side != pair[1].side:
            raise ValueError("the legs of an OCO pair share a side")
        for leg in pair:
            if leg.type not in STOP_TYPES and leg.type != LIMIT_MAKER:
                raise ValueError(f"{leg.type} cannot be an OCO leg")
        if all(leg.type == LIMIT_MAKER for leg in pair):
            raise ValueError("at least one OCO leg is a stop order")
        high = _reference_price(above[0])
        low = _reference_price(below[0])
        if high and low and high <= low:
            return PRICE_RELATIONSHIP
        last = self._last
        if now and last is not None:
            if (high and high <= last) or (low and low >= last):
                return PRICE_RELATIONSHIP
        if now:
            for leg in pair:
                if leg.type == LIMIT_MAKER:
                    opposite = self._asks if leg.side == BUY else self._bids
                    heap = opposite.heap
                    if heap and heap[0] <= leg.price * opposite.sign:
                        return WOULD_TAKE
        return None

    def cancel_list(self, list_id: int) -> tuple:
        """Cancel every live leg of an order list: ``OrderUpdate``s, CANCELED, in
        order_id order, with the lots each held; empty for an unknown list."""
        order_list = self._lists.get(list_id)
        if order_list is None:
            return ()
        updates = []
        for order_id in sorted(order_list[MEMBERS]):
            updates.append(OrderUpdate(order_id, CANCELED, self._take_out(order_id)))
            del self._list_of[order_id]
        del self._lists[list_id]
        self._rewatch()
        return tuple(updates)

    def list_of(self, order_id: int) -> int | None:
        """The id of the live order list this order is a live leg of, or None."""
        return self._list_of.get(order_id)

    def _take_out(self, order_id: int) -> int:
        """Remove a live leg wherever it is; the lots it held."""
        record = self._stops.remove(order_id)
        if record is not None:
            return record[QTY]
        lots = self._queued.pop(order_id, None)
        if lots is not None:
            return lots
        book_id = self._prio.pop(order_id, order_id)
        self._alias.pop(book_id, None)
        lots = self._unrest(book_id)
        if lots is not None:
            return lots
        list_id = self._list_of.get(order_id)
        order_list = self._lists.get(list_id) if list_id is not None else None
        for lists in [order_list] if order_list else self._lists.values():
            for leg in lists[PENDING]:
                if leg.order_id == order_id:
                    lists[PENDING].remove(leg)
                    return leg.qty
        raise AssertionError(f"live leg {order_id} is nowhere")

    # ------------------------------------------------------------- settling

    def _settle(self, result: PlaceResult, last_id: int) -> PlaceResult:
        """Run every consequence of ``result`` (see the module doc); the taker's
        result with its maker ids translated and the events attached."""
        if (
            not result.fills
            and not result.expired_makers
            and not self._moved
            and result.order_id not in self._list_of
        ):
            return result  # set nothing off (a rest, a refusal, a stop filed)
        events: list = []
        queue: deque = deque()
        moved = self._moved
        if self._alias:
            result = self._translated(result, result.order_id)
        self._absorb(result, events, queue, moved)
        priority = last_id
        queued = self._queued
        while queue:
            order_id, args = queue.popleft()
            if queued.pop(order_id, None) is None:
                continue  # expired by an OCO leg that started before it
            priority += 1
            raw = self._place_checked(priority, *args)
            executed = self._translated(raw, order_id)
            if executed.remaining:
                self._alias[priority] = order_id
                self._prio[order_id] = priority
            events.append(Triggered(order_id, priority, executed))
            self._absorb(executed, events, queue, moved)
        self._tracking_events(events)
        self._rewatch()
        if not events:
            return result
        return PlaceResult(
            result.order_id,
            result.status,
            result.executed_qty,
            result.executed_quote,
            result.remaining,
            result.fills,
            result.expired_makers,
            result.reject_reason,
            tuple(events),
        )

    def _tracking_events(self, events: list) -> None:
        """Report each trailing stop that moved in this command, once, as it is."""
        moved = self._moved
        if not moved:
            return
        stops = self._stops
        for order_id in sorted(moved):
            record = stops.get(order_id)
            if record is not None:
                events.append(Tracking(order_id, record[EXTREME]))
        moved.clear()

    def _translated(self, result: PlaceResult, order_id: int) -> PlaceResult:
        """``result`` under the taker's identity ``order_id``, makers under theirs
        (an order resting under another priority is reported by its own id)."""
        alias = self._alias
        fills = result.fills
        expired = result.expired_makers
        if alias:
            prio = self._prio
            out = []
            for maker_id, owner, price, lots, after in fills:
                real = alias.get(maker_id)
                if real is not None:
                    if not after:
                        del alias[maker_id]
                        del prio[real]
                    maker_id = real
                out.append((maker_id, owner, price, lots, after))
            fills = out
            released = []
            for maker_id, owner, lots in expired:
                real = alias.pop(maker_id, None)
                if real is not None:
                    del prio[real]
                    maker_id = real
                released.append((maker_id, owner, lots))
            expired = released
        if result.order_id != order_id or fills is not result.fills:
            return PlaceResult(
                order_id,
                result.status,
                result.executed_qty,
                result.executed_quote,
                result.remaining,
                fills,
                expired,
                result.reject_reason,
            )
        return result

    def _absorb(self, result: PlaceResult, events, queue, moved) -> None:
        """Steps 2 to 4 of the module doc for one executed taker."""
        list_of = self._list_of
        if list_of:
            for maker_id, _, _, _, after in result.fills:
                if maker_id in list_of:
                    self._leg_traded(maker_id, after == 0, events, queue)
            for maker_id, _, _ in result.expired_makers:
                if maker_id in list_of:
                    self._leg_ended(maker_id, events, queue)
            taker = result.order_id
            if taker in list_of:
                if result.status == FILLED:
                    self._leg_traded(taker, True, events, queue)
                elif result.remaining:
                    if result.executed_qty:
                        self._leg_traded(taker, False, events, queue)
                else:
                    self._leg_ended(taker, events, queue)
        stops = self._stops
        pending = stops.by_id
        previous = None
        for _, _, price, _, _ in result.fills:
            if price != previous and pending:
                previous = price
                fired = stops.trade(price, moved)
                if fired:
                    queued = self._queued
                    for record in fired:
                        queued[record[ID]] = record[QTY]
                    for record in fired:
                        # An OCO pair can fire together; the first expires the other.
                        if record[ID] in queued:
                            self._fire(record, events, queue)
            self._last = price

    def _fire(self, record: list, events, queue) -> None:
        """A stop fired: its OCO other leg expires, and it joins the queue."""
        order_id = record[ID]
        list_id = self._list_of.get(order_id)
        if list_id is not None:
            self._resolve_group(list_id, order_id, events)
        order_type, tif, price = _working_args(record)
        args = (record[OWNER], record[SIDE], order_type, tif, price, record[QTY])
        queue.append((order_id, args + (0, record[STP])))
        self._queued[order_id] = record[QTY]

    def _leg_traded(self, order_id: int, done: bool, events, queue) -> None:
        """A live leg traded (``done``: and is filled)."""
        list_id = self._list_of[order_id]
        order_list = self._lists[list_id]
        self._resolve_group(list_id, order_id, events)
        if done:
            if order_list[WORKING] == order_id:
                self._activate(list_id, events, queue)
            self._leg_final(list_id, order_id)

    def _leg_ended(self, order_id: int, events, queue) -> None:
        """A live leg ended without filling (expired, or refused on activation)."""
        list_id = self._list_of[order_id]
        order_list = self._lists[list_id]
        self._resolve_group(list_id, order_id, events)
        if order_list[WORKING] == order_id:
            for leg in order_list[PENDING]:
                events.append(OrderUpdate(leg.order_id, EXPIRED, leg.qty))
                order_list[MEMBERS].discard(leg.order_id)
                del self._list_of[leg.order_id]
            order_list[PENDING] = []
        self._leg_final(list_id, order_id)

    def _resolve_group(self, list_id: int, order_id: int, events) -> None:
        """``order_id`` started working or ended: the rest of its OCO expire."""
        order_list = self._lists[list_id]
        group = order_list[GROUP]
        if not group or order_id not in group:
            return
        order_list[GROUP] = None
        for other in group:
            if other != order_id and other in order_list[MEMBERS]:
                lots = self._take_out(other)
                events.append(OrderUpdate(other, EXPIRED, lots))
                self._leg_final(list_id, other)

    def _leg_final(self, list_id: int, order_id: int) -> None:
        order_list = self._lists[list_id]
        members = order_list[MEMBERS]
        if order_id in members:
            members.discard(order_id)
            del self._list_of[order_id]
        if not members:
            del self._lists[list_id]

    def _activate(self, list_id: int, events, queue) -> None:
        """The working order filled: its pending legs start, in list order."""
        order_list = self._lists[list_id]
        legs = order_list[PENDING]
        order_list[PENDING] = []
        if order_list[KIND] == OTOCO:
            order_list[GROUP] = [leg.order_id for leg in legs]
        last = self._last
        fire_now = []
        for leg in legs:
            if leg.type not in STOP_TYPES:
                queue.append((leg.order_id, tuple(leg[1:9])))
                self._queued[leg.order_id] = leg.qty
                continue
            record = _stop_record(leg, last)
            met = (
                record[ARMED]
                and last is not None
                and stop_met(leg.type, leg.side, leg.stop_price, last)
            )
            if met and record[DELTA]:
                # The stop price is met already: tracking starts from the last price.
                record[ARMED] = False
                record[EXTREME] = last
            self._stops.add(record)
            if record[EXTREME] is not None and last is not None:
                self._moved[leg.order_id] = last
            events.append(OrderUpdate(leg.order_id, NEW, leg.qty))
            if met and not record[DELTA]:
                fire_now.append(record)
        for record in fire_now:
            # The first to fire may have expired the other (an OTOCO's pair).
            if self._stops.remove(record[ID]) is not None:
                self._fire(record, events, queue)

    def _rewatch(self) -> None:
        self._watch = bool(self._stops.by_id or self._list_of or self._alias)

    # ------------------------------------------------------------- reads

    def pending(self) -> list[tuple]:
        """Every order waiting in the trigger book, in order_id order: ``(order_id,
        owner, side, type, tif, price, qty, stp, stop_price, trailing_delta,
        extreme, armed)``; ``armed`` means still waiting for its stop price,
        otherwise it is trailing from ``extreme`` (None: from the next trade)."""
        return [tuple(record) for record in self._stops.records()]

    def lists(self) -> list[tuple]:
        """Every live order list, by id: ``(list_id, kind, working_id, oco_group,
        pending_legs, live_leg_ids)`` (``pending_legs`` as NewOrder tuples)."""
        return [
            (
                list_id,
                lst[KIND],
                lst[WORKING],
                tuple(lst[GROUP]) if lst[GROUP] else None,
                tuple(lst[PENDING]),
                tuple(sorted(lst[MEMBERS])),
            )
            for list_id, lst in sorted(self._lists.items())
        ]

    def pending_count(self) -> int:
        """How many orders wait in the trigger book."""
        return len(self._stops)

    def is_pending(self, order_id: int) -> bool:
        """Whether the order waits in the trigger book."""
        return order_id in self._stops

    @property
    def last_price(self) -> int | None:
        """The price of the last trade on this book, in ticks (None: none yet)."""
        return self._last

    def set_last_price(self, price: int | None) -> None:
        """Tell a rebuilt book the last trade price (stop conditions need it)."""
        self._last = price

    # ------------------------------------------------------------- sync

    def upsert_stop(
        self, cmd, extreme: int | None = None, armed: bool | None = None
    ) -> None:
        """Make the trigger book hold this pending stop order, as read from the
        database (a restart, or another process's change): no check against the
        last price, nothing fires. ``armed`` defaults to "has a stop price";
        ``extreme`` is the tracking state a ``Tracking`` event reported."""
        cmd = NewOrder(*cmd)
        if cmd.type not in STOP_TYPES or self._check_leg(cmd) is not None:
            raise ValueError(f"not a valid stop order: {cmd!r}")
        self._stops.remove(cmd.order_id)
        record = _stop_record(cmd, None)
        if armed is not None:
            record[ARMED] = armed
            if not armed and not cmd.trailing_delta:
                raise ValueError("only a trailing stop tracks")
        record[EXTREME] = None if record[ARMED] else extreme
        self._stops.add(record)
        self._watch = True

    def upsert_list(
        self,
        list_id: int,
        kind: str,
        working_id: int | None,
        oco_group,
        pending_legs,
        live_leg_ids,
    ) -> None:
        """Make the book know a live order list, as ``lists()`` reports it. The
        legs themselves are synced on their own (``upsert``, ``upsert_stop``);
        pending (PENDING_NEW) legs live only here."""
        if kind not in LIST_KINDS:
            raise ValueError(f"unknown order list kind {kind!r}")
        old = self._lists.pop(list_id, None)
        if old is not None:
            for order_id in old[MEMBERS]:
                self._list_of.pop(order_id, None)
        members = set(live_leg_ids)
        if not members:
            self._rewatch()
            return
        self._lists[list_id] = [
            kind,
            working_id,
            list(oco_group) if oco_group else None,
            [NewOrder(*leg) for leg in pending_legs],
            members,
        ]
        for order_id in members:
            self._list_of[order_id] = list_id
        self._watch = True

    def _check_contingent(self) -> None:
        """The invariants of stops, lists and priorities (see check_invariants)."""
        self._stops.check_invariants()
        alias, prio = self._alias, self._prio
        assert {v: k for k, v in alias.items()} == prio, "priority maps disagree"
        for book_id, order_id in alias.items():
            assert book_id in self._index, f"alias of {order_id} not resting"
            assert book_id != order_id, "an alias to itself"
            assert order_id not in self._index, f"{order_id} rests twice"
        for record in self._stops.records():
            assert self.get(record[ID]) is None, "a stop both pending and resting"
        seen = set()
        for list_id, lst in self._lists.items():
            members = lst[MEMBERS]
            assert members, f"empty list {list_id} kept"
            pending_ids = {leg.order_id for leg in lst[PENDING]}
            for order_id in members:
                assert self._list_of.get(order_id) == list_id, "membership map"
                assert order_id not in seen, "a leg in two lists"
                seen.add(order_id)
                where = (
                    (order_id in self._stops)
                    + (self.get(order_id) is not None)
                    + (order_id in pending_ids)
                )
                assert where == 1, f"leg {order_id} live in {where} places"
            assert pending_ids <= members, "pending leg not a member"
            if lst[GROUP]:
                assert set(lst[GROUP]) <= members, "an OCO leg ended, the other live"
        assert set(self._list_of) == seen, "membership of a dead leg"
        assert self._watch == bool(self._stops or self._list_of or alias), "watch"
