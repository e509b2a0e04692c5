"""A slow, obviously correct order book with the same contract as matching.engine.

Resting orders live in one flat list; every question is answered by filtering and
sorting that list again. Pending stops are a flat list too, walked whole for every
trade; order lists are plain dicts. Nothing is cached, so there is nothing to get
out of step. Used only to check the real engine, command by command.

Stops and lists follow Binance's rules as ``docs/engine.md`` states them, written
here from that text rather than from the engine: a stop waits for its stop price
against the last trade price (``>=`` for STOP_LOSS BUY and TAKE_PROFIT SELL, ``<=``
for the other two); a trailing stop tracks the lowest (BUY) or highest (SELL) trade
price from the trade that meets its stop price, or from placement at the last
price when it has none, and fires on a move of ``delta`` BIPS against it; stops
fired by one trade run in order_id order after the command that traded, each under
the next priority; an OCO leg that trades or fires expires the other; an OTO's
working order filled activates its pending legs, and ended unfilled expires them.
"""

from __future__ import annotations

from matching.contract import (
    BIPS,
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
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    MAX_PRICE,
    NEW,
    OCO,
    ORDER_TYPES,
    OTOCO,
    PARTIALLY_FILLED,
    PENDING_NEW,
    PRICE_RELATIONSHIP,
    REJECTED,
    SELL,
    SIDES,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    STOP_TYPES,
    STP_MODES,
    STP_NONE,
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


def _goes_up(cmd) -> bool:
    """STOP_LOSS BUY and TAKE_PROFIT SELL wait for the price to rise to them."""
    is_stop_loss = cmd.type in (STOP_LOSS, STOP_LOSS_LIMIT)
    return (cmd.side == BUY and is_stop_loss) or (cmd.side == SELL and not is_stop_loss)


def _met(cmd, last) -> bool:
    return last >= cmd.stop_price if _goes_up(cmd) else last <= cmd.stop_price


class ReferenceBook:
    """Each resting order is a list ``[order_id, owner, side, price, remaining,
    priority]``; each pending stop a dict."""

    def __init__(self) -> None:
        self.resting: list[list] = []
        self.stops: list[dict] = []
        self.lists: dict[int, dict] = {}
        self.last: int | None = None
        self._queued: dict[int, int] = {}
        self._moved: set[int] = set()

    # -- helpers

    def _find(self, order_id: int) -> list | None:
        for order in self.resting:
            if order[0] == order_id:
                return order
        return None

    def _stop(self, order_id: int) -> dict | None:
        for stop in self.stops:
            if stop["cmd"].order_id == order_id:
                return stop
        return None

    def _list_of(self, order_id: int) -> dict | None:
        for order_list in self.lists.values():
            if order_id in order_list["members"]:
                return order_list
        return None

    def _side_sorted(self, side: str) -> list[list]:
        """Orders of one side in priority: best price first, then priority."""
        orders = [o for o in self.resting if o[2] == side]
        if side == BUY:
            return sorted(orders, key=lambda o: (-o[3], o[5]))
        return sorted(orders, key=lambda o: (o[3], o[5]))

    @staticmethod
    def _crosses(taker_side: str, limit: int | None, maker_price: int) -> bool:
        if limit is None:
            return True
        if taker_side == BUY:
            return maker_price <= limit
        return maker_price >= limit

    def _makers(self, taker_side: str, limit: int | None) -> list[list]:
        maker_side = SELL if taker_side == BUY else BUY
        return [
            o
            for o in self._side_sorted(maker_side)
            if self._crosses(taker_side, limit, o[3])
        ]

    @staticmethod
    def _result(
        order_id, status, done=0, quote=0, rest=0, fills=(), expired=(), why=None
    ):
        return PlaceResult(
            order_id=order_id,
            status=status,
            executed_qty=done,
            executed_quote=quote,
            remaining=rest,
            fills=list(fills),
            expired_makers=list(expired),
            reject_reason=why,
        )

    # -- commands

    def place(self, cmd: NewOrder) -> PlaceResult:
        cmd = NewOrder(*cmd)
        if self._find(cmd.order_id) is not None:
            raise ValueError("duplicate order id")
        if cmd.type in STOP_TYPES:
            result = self._place_stop(cmd)
        else:
            result = self._match(cmd, cmd.order_id)
        return self._settle(result, cmd.order_id)

    def _check(self, cmd: NewOrder) -> str | None:
        if (
            cmd.side not in SIDES
            or cmd.type not in ORDER_TYPES | STOP_TYPES
            or cmd.tif not in TIME_IN_FORCES
            or cmd.stp not in STP_MODES
        ):
            raise ValueError("unknown enum")
        if cmd.type == MARKET:
            if cmd.qty < 0 or cmd.quote_qty < 0:
                return INVALID_QTY
            if (cmd.qty == 0) == (cmd.quote_qty == 0):
                return INVALID_QTY
            return None
        if cmd.qty <= 0 or cmd.quote_qty != 0:
            return INVALID_QTY
        if cmd.type in (LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
            if not 0 < cmd.price <= MAX_PRICE:
                return INVALID_PRICE
        if cmd.type in STOP_TYPES:
            if not 0 <= cmd.stop_price <= MAX_PRICE:
                return INVALID_STOP
            if not 0 <= cmd.trailing_delta < BIPS:
                return INVALID_STOP
            if cmd.stop_price == 0 and cmd.trailing_delta == 0:
                return INVALID_STOP
        return None

    def _place_stop(self, cmd: NewOrder) -> PlaceResult:
        why = self._check(cmd)
        if why is None and cmd.stop_price and self.last is not None:
            if _met(cmd, self.last):
                why = WOULD_TRIGGER
        if why is not None:
            return self._result(cmd.order_id, REJECTED, why=why)
        self._add_stop(cmd)
        return self._result(cmd.order_id, NEW)

    def _add_stop(self, cmd: NewOrder) -> dict:
        if cmd.stop_price:
            stop = {"cmd": cmd, "armed": True, "extreme": None}
        else:
            stop = {"cmd": cmd, "armed": False, "extreme": self.last}
            if self.last is not None:
                self._moved.add(cmd.order_id)
        self.stops.append(stop)
        return stop

    def _match(self, cmd: NewOrder, priority: int) -> PlaceResult:
        """One order's own execution; rests under ``priority``."""
        oid = cmd.order_id
        why = self._check(cmd)
        if why is not None:
            return self._result(oid, REJECTED, why=why)

        if cmd.type in (LIMIT, LIMIT_MAKER):
            if cmd.type == LIMIT_MAKER:
                if self._makers(cmd.side, cmd.price):
                    return self._result(oid, REJECTED, why=WOULD_TAKE)
                self.resting.append(
                    [oid, cmd.owner, cmd.side, cmd.price, cmd.qty, priority]
                )
                return self._result(oid, NEW, rest=cmd.qty)
            limit = cmd.price
        else:
            limit = None

        own_counts = cmd.stp != STP_NONE

        if cmd.type == LIMIT and cmd.tif == FOK:
            need = cmd.qty
            fillable = False
            for maker in self._makers(cmd.side, limit):
                if own_counts and maker[1] == cmd.owner:
                    if cmd.stp == EXPIRE_MAKER:
                        continue
                    break
                need -= maker[4]
                if need <= 0:
                    fillable = True
                    break
            if not fillable:
                return self._result(oid, EXPIRED)

        by_quote = cmd.type == MARKET and cmd.qty == 0
        left = cmd.qty
        budget = cmd.quote_qty
        done = 0
        quote = 0
        fills = []
        expired = []
        finished = False  # quantity filled, or budget too small for the next lot
        self_trade = False
        while True:
            # Re-read the book before every maker: the best one may be what is left
            # of the maker just filled.
            makers = self._makers(cmd.side, limit)
            if not makers:
                break
            maker = makers[0]
            if by_quote:
                want = budget // maker[3]
                if want == 0:
                    finished = True
                    break
            else:
                want = left
            if own_counts and maker[1] == cmd.owner:
                if cmd.stp in (EXPIRE_MAKER, EXPIRE_BOTH):
                    self.resting.remove(maker)
                    expired.append((maker[0], maker[1], maker[4]))
                if cmd.stp in (EXPIRE_TAKER, EXPIRE_BOTH):
                    self_trade = True
                    break
                continue
            take = min(want, maker[4])
            maker[4] -= take
            if maker[4] == 0:
                self.resting.remove(maker)
            fills.append((maker[0], maker[1], maker[3], take, maker[4]))
            done += take
            quote += take * maker[3]
            if by_quote:
                budget -= take * maker[3]
                if budget == 0:
                    finished = True
                    break
            else:
                left -= take
                if left == 0:
                    finished = True
                    break

        if cmd.type == MARKET:
            if self_trade:
                status = EXPIRED_IN_MATCH
            elif finished and done > 0:
                status = FILLED
            else:
                status = EXPIRED
            return self._result(oid, status, done, quote, 0, fills, expired)

        if left == 0:
            return self._result(oid, FILLED, done, quote, 0, fills, expired)
        if self_trade:
            return self._result(oid, EXPIRED_IN_MATCH, done, quote, 0, fills, expired)
        if cmd.tif == GTC:
            self.resting.append([oid, cmd.owner, cmd.side, cmd.price, left, priority])
            status = PARTIALLY_FILLED if done else NEW
            return self._result(oid, status, done, quote, left, fills, expired)
        return self._result(oid, EXPIRED, done, quote, 0, fills, expired)

    # -- what trades set off

    def _settle(self, result: PlaceResult, last_id: int) -> PlaceResult:
        events: list = []
        queue: list = []
        self._absorb(result, events, queue)
        priority = last_id
        while queue:
            cmd = queue.pop(0)
            if cmd.order_id not in self._queued:
                continue
            del self._queued[cmd.order_id]
            priority += 1
            executed = self._match(cmd, priority)
            events.append(Triggered(cmd.order_id, priority, executed))
            self._absorb(executed, events, queue)
        for order_id in sorted(self._moved):
            stop = self._stop(order_id)
            if stop is not None:
                events.append(Tracking(order_id, stop["extreme"]))
        self._moved.clear()
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

    def _absorb(self, result: PlaceResult, events: list, queue: list) -> None:
        # The execution is whole before anything reacts to it: list legs first,
        # then every trade price.
        for maker_id, _, _, _, after in result.fills:
            if self._list_of(maker_id) is not None:
                self._traded(maker_id, after == 0, events, queue)
        for maker_id, _, _ in result.expired_makers:
            if self._list_of(maker_id) is not None:
                self._ended(maker_id, events)
        taker = result.order_id
        if self._list_of(taker) is not None:
            if result.status == FILLED:
                self._traded(taker, True, events, queue)
            elif result.remaining:
                if result.executed_qty:
                    self._traded(taker, False, events, queue)
            else:
                self._ended(taker, events)
        for _, _, price, _, _ in result.fills:
            self._trade_at(price, events, queue)
            self.last = price

    def _trade_at(self, price: int, events: list, queue: list) -> None:
        fired = []
        for stop in sorted(self.stops, key=lambda s: s["cmd"].order_id):
            cmd = stop["cmd"]
            if stop["armed"]:
                if _met(cmd, price):
                    if cmd.trailing_delta:
                        stop["armed"] = False
                        stop["extreme"] = price
                        self._moved.add(cmd.order_id)
                    else:
                        fired.append(stop)
                continue
            extreme = stop["extreme"]
            delta = cmd.trailing_delta
            if extreme is None:
                stop["extreme"] = price
                self._moved.add(cmd.order_id)
            elif cmd.side == BUY:
                if price < extreme:
                    stop["extreme"] = price
                    self._moved.add(cmd.order_id)
                elif price * BIPS >= extreme * (BIPS + delta):
                    fired.append(stop)
            else:
                if price > extreme:
                    stop["extreme"] = price
                    self._moved.add(cmd.order_id)
                elif price * BIPS <= extreme * (BIPS - delta):
                    fired.append(stop)
        for stop in fired:
            self.stops.remove(stop)
            self._queued[stop["cmd"].order_id] = stop["cmd"].qty
        for stop in fired:
            if stop["cmd"].order_id in self._queued:
                self._fire(stop, events, queue)

    def _fire(self, stop: dict, events: list, queue: list) -> None:
        cmd = stop["cmd"]
        self._moved.discard(cmd.order_id)
        order_list = self._list_of(cmd.order_id)
        if order_list is not None:
            self._expire_group(order_list, cmd.order_id, events)
        limit = cmd.type in (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT)
        working = NewOrder(
            cmd.order_id,
            cmd.owner,
            cmd.side,
            LIMIT if limit else MARKET,
            cmd.tif,
            cmd.price if limit else 0,
            cmd.qty,
            0,
            cmd.stp,
        )
        queue.append(working)
        self._queued[cmd.order_id] = cmd.qty

    def _traded(self, order_id: int, done: bool, events: list, queue: list) -> None:
        order_list = self._list_of(order_id)
        self._expire_group(order_list, order_id, events)
        if done:
            if order_list["working"] == order_id:
                self._activate(order_list, events, queue)
            self._final(order_list, order_id)

    def _ended(self, order_id: int, events: list) -> None:
        order_list = self._list_of(order_id)
        self._expire_group(order_list, order_id, events)
        if order_list["working"] == order_id:
            for leg in order_list["pending"]:
                events.append(OrderUpdate(leg.order_id, EXPIRED, leg.qty))
                order_list["members"].discard(leg.order_id)
            order_list["pending"] = []
        self._final(order_list, order_id)

    def _expire_group(self, order_list: dict, order_id: int, events: list) -> None:
        group = order_list["group"]
        if not group or order_id not in group:
            return
        order_list["group"] = None
        for other in group:
            if other != order_id and other in order_list["members"]:
                lots = self._take_out(other)
                events.append(OrderUpdate(other, EXPIRED, lots))
                self._final(order_list, other)

    def _final(self, order_list: dict, order_id: int) -> None:
        order_list["members"].discard(order_id)
        if not order_list["members"]:
            del self.lists[order_list["id"]]

    def _take_out(self, order_id: int) -> int:
        stop = self._stop(order_id)
        if stop is not None:
            self.stops.remove(stop)
            self._moved.discard(order_id)
            return stop["cmd"].qty
        if order_id in self._queued:
            return self._queued.pop(order_id)
        order = self._find(order_id)
        if order is not None:
            self.resting.remove(order)
            return order[4]
        for order_list in self.lists.values():
            for leg in order_list["pending"]:
                if leg.order_id == order_id:
                    order_list["pending"].remove(leg)
                    return leg.qty
        raise AssertionError(order_id)

    def _activate(self, order_list: dict, events: list, queue: list) -> None:
        legs = order_list["pending"]
        order_list["pending"] = []
        if order_list["kind"] == OTOCO:
            order_list["group"] = [leg.order_id for leg in legs]
        fire_now = []
        for leg in legs:
            if leg.type not in STOP_TYPES:
                queue.append(NewOrder(*leg[:9]))
                self._queued[leg.order_id] = leg.qty
                continue
            stop = self._add_stop(leg)
            events.append(OrderUpdate(leg.order_id, NEW, leg.qty))
            if stop["armed"] and self.last is not None and _met(leg, self.last):
                if leg.trailing_delta:
                    stop["armed"] = False
                    stop["extreme"] = self.last
                    self._moved.add(leg.order_id)
                else:
                    fire_now.append(stop)
        for stop in fire_now:
            if stop in self.stops:
                self.stops.remove(stop)
                self._fire(stop, events, queue)

    # -- order lists

    def place_list(self, kind: str, list_id: int, legs) -> ListResult:
        legs = [NewOrder(*leg) for leg in legs]
        for leg in legs:
            if self._find(leg.order_id) or self._stop(leg.order_id):
                raise ValueError("duplicate order id")
        for leg in legs:
            why = self._check(leg)
            if why is not None:
                return ListResult(list_id, why, ())
        pair = legs if kind == OCO else legs[1:] if kind == OTOCO else []
        if pair:
            why = self._check_pair(pair, now=kind == OCO)
            if why is not None:
                return ListResult(list_id, why, ())
        ids = {leg.order_id for leg in legs}
        if kind == OCO:
            results = []
            for leg in legs:
                if leg.type == LIMIT_MAKER:
                    results.append(self._match(leg, leg.order_id))
                else:
                    results.append(self._place_stop(leg))
            self.lists[list_id] = {
                "id": list_id,
                "kind": kind,
                "working": None,
                "group": [leg.order_id for leg in legs],
                "pending": [],
                "members": ids,
            }
            events = [
                Tracking(i, self._stop(i)["extreme"]) for i in sorted(self._moved)
            ]
            self._moved.clear()
            return ListResult(list_id, None, tuple(results), tuple(events))
        working = legs[0]
        if working.type == LIMIT_MAKER and self._makers(working.side, working.price):
            return ListResult(list_id, WOULD_TAKE, ())
        self.lists[list_id] = {
            "id": list_id,
            "kind": kind,
            "working": working.order_id,
            "group": None,
            "pending": legs[1:],
            "members": ids,
        }
        result = self._settle(self._match(working, working.order_id), legs[-1].order_id)
        own = PlaceResult(*[getattr(result, f) for f in PlaceResult.__slots__][:8])
        pending = [
            PlaceResult(leg.order_id, PENDING_NEW, 0, 0, 0, [], [], None)
            for leg in legs[1:]
        ]
        return ListResult(list_id, None, (own, *pending), result.events)

    def _check_pair(self, pair, now: bool) -> str | None:
        def above(leg):
            if leg.type == LIMIT_MAKER:
                return leg.side == SELL
            return _goes_up(leg)

        def ref(leg):
            return leg.price if leg.type == LIMIT_MAKER else leg.stop_price

        high = [ref(leg) for leg in pair if above(leg)][0]
        low = [ref(leg) for leg in pair if not above(leg)][0]
        if high and low and not high > low:
            return PRICE_RELATIONSHIP
        if now and self.last is not None:
            if high and not high > self.last:
                return PRICE_RELATIONSHIP
            if low and not low < self.last:
                return PRICE_RELATIONSHIP
        if now:
            for leg in pair:
                if leg.type == LIMIT_MAKER and self._makers(leg.side, leg.price):
                    return WOULD_TAKE
        return None

    def cancel_list(self, list_id: int) -> tuple:
        order_list = self.lists.get(list_id)
        if order_list is None:
            return ()
        updates = []
        for order_id in sorted(order_list["members"]):
            updates.append(OrderUpdate(order_id, CANCELED, self._take_out(order_id)))
        del self.lists[list_id]
        return tuple(updates)

    # -- cancel and sync

    def cancel(self, order_id: int) -> int | None:
        if self._list_of(order_id) is not None:
            raise ValueError("a list leg")
        stop = self._stop(order_id)
        if stop is not None:
            self.stops.remove(stop)
            return stop["cmd"].qty
        order = self._find(order_id)
        if order is None:
            return None
        self.resting.remove(order)
        return order[4]

    def remove(self, order_id: int) -> bool:
        order_list = self._list_of(order_id)
        if order_list is not None:
            order_list["members"].discard(order_id)
            order_list["pending"] = [
                leg for leg in order_list["pending"] if leg.order_id != order_id
            ]
            if order_list["group"] and order_id in order_list["group"]:
                rest = [i for i in order_list["group"] if i != order_id]
                order_list["group"] = rest or None
            if not order_list["members"]:
                del self.lists[order_list["id"]]
        stop = self._stop(order_id)
        if stop is not None:
            self.stops.remove(stop)
            return True
        order = self._find(order_id)
        if order is None:
            return False
        self.resting.remove(order)
        return True

    def upsert(self, order_id, owner, side, price, remaining, priority=None) -> None:
        if side not in SIDES or not 0 < price <= MAX_PRICE or remaining <= 0:
            raise ValueError("cannot rest")
        stop = self._stop(order_id)
        if stop is not None:
            self.stops.remove(stop)
        priority = order_id if priority is None else priority
        order = self._find(order_id)
        if order is None:
            self.resting.append([order_id, owner, side, price, remaining, priority])
        elif order[2:4] == [side, price] and order[1] == owner and order[5] == priority:
            order[4] = remaining
        else:
            # Moved: it queues again at its place by priority.
            self.resting.remove(order)
            self.resting.append([order_id, owner, side, price, remaining, priority])

    # -- reads

    def get(self, order_id: int):
        order = self._find(order_id)
        return None if order is None else tuple(order[:5])

    def orders(self):
        return [tuple(o[:5]) for o in self._side_sorted(BUY) + self._side_sorted(SELL)]

    def priorities(self) -> dict[int, int]:
        return {o[0]: o[5] for o in self.resting if o[5] != o[0]}

    def pending(self) -> list[tuple]:
        out = []
        for stop in sorted(self.stops, key=lambda s: s["cmd"].order_id):
            c = stop["cmd"]
            out.append(
                (
                    *(c.order_id, c.owner, c.side, c.type, c.tif, c.price, c.qty),
                    *(c.stp, c.stop_price, c.trailing_delta),
                    stop["extreme"],
                    stop["armed"],
                )
            )
        return out

    def list_view(self) -> list[tuple]:
        return [
            (
                list_id,
                lst["kind"],
                lst["working"],
                tuple(lst["group"]) if lst["group"] else None,
                tuple(lst["pending"]),
                tuple(sorted(lst["members"])),
            )
            for list_id, lst in sorted(self.lists.items())
        ]

    def best_bid(self):
        bids = self._side_sorted(BUY)
        return bids[0][3] if bids else None

    def best_ask(self):
        asks = self._side_sorted(SELL)
        return asks[0][3] if asks else None

    def depth(self, n: int):
        def levels(side):
            out: list[tuple[int, int]] = []
            for order in self._side_sorted(side):
                if out and out[-1][0] == order[3]:
                    out[-1] = (order[3], out[-1][1] + order[4])
                else:
                    out.append((order[3], order[4]))
            return out[: max(n, 0)]

        return levels(BUY), levels(SELL)

    def __len__(self) -> int:
        return len(self.resting)

    def __contains__(self, order_id) -> bool:
        return self._find(order_id) is not None
