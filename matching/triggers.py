"""The trigger book: pending stop orders of one symbol, fired by trade prices.

Pure like the engine (no I/O, no clock). ``OrderBook`` owns one and feeds it every
trade price in execution order; this module only knows when a stop fires.

Binance's rules (trailing-stop FAQ, ``rest-api.md`` "New order"):

* a stop order waits for its ``stop_price`` condition against the last trade
  price: ``last >= stop`` for STOP_LOSS(_LIMIT) BUY and TAKE_PROFIT(_LIMIT) SELL
  (the *up* orders), ``last <= stop`` for STOP_LOSS(_LIMIT) SELL and
  TAKE_PROFIT(_LIMIT) BUY (the *down* orders);
* a trailing stop (``trailing_delta`` BIPS) with a stop price starts tracking at
  the first trade that meets that condition, that trade's price being the first
  extreme; without a stop price it tracks from placement, the extreme starting at
  the last trade price (or at the next trade when there was none yet);
* while tracking, a BUY keeps the lowest trade price and fires on a rise of
  ``delta`` from it (``price * 10000 >= lowest * (10000 + delta)``), a SELL keeps
  the highest and fires on a fall (``price * 10000 <= highest * (10000 -
  delta)``); both in exact integers.

Stops fired by one trade price are returned in order_id order (placement order).

Layout: a record per pending order, a list ``[order_id, owner, side, type, tif,
price, qty, stp, stop_price, delta, extreme, armed]``. Armed records (waiting for
their stop price) sit in two heaps of ``(key, order_id, record)``, up orders by
stop price and down orders by minus stop price, so a trade finds what it fires at
the tops; a removed record leaves its heap entry behind (an entry is live while
its very record is the one pending under its id; stale ones are skipped on the
way out and purged when they outnumber the live ones). Tracking records sit in a
dict and are all visited for each trade price: trailing stops are few next to
plain ones.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

from matching.contract import (
    BIPS,
    BUY,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
)

# Record fields.
ID, OWNER, SIDE, TYPE, TIF, PRICE, QTY, STP, STOP, DELTA, EXTREME, ARMED = range(12)

_STALE_SLACK = 64


def fires_up(order_type: str, side: str) -> bool:
    """True for orders whose stop price is met from below (``last >= stop``)."""
    stop_loss = order_type == STOP_LOSS or order_type == STOP_LOSS_LIMIT
    return stop_loss == (side == BUY)


def stop_met(order_type: str, side: str, stop_price: int, last: int) -> bool:
    """Whether ``last`` meets the stop price condition of this order."""
    if fires_up(order_type, side):
        return last >= stop_price
    return last <= stop_price


def trail_fires(side: str, extreme: int, delta: int, price: int) -> bool:
    """Whether ``price`` is a move of ``delta`` BIPS against a tracked extreme."""
    if side == BUY:
        return price * BIPS >= extreme * (BIPS + delta)
    return price * BIPS <= extreme * (BIPS - delta)


assert fires_up(TAKE_PROFIT, "SELL") and fires_up(STOP_LOSS_LIMIT, BUY)
assert not fires_up(TAKE_PROFIT_LIMIT, BUY)


class TriggerBook:
    """Pending stop orders of one book. Not thread-safe (the pair lock covers it)."""

    __slots__ = ("_orders", "_up", "_down", "_tracking", "_stale")

    def __init__(self) -> None:
        self._orders: dict[int, list] = {}
        self._up: list[tuple[int, int, list]] = []
        self._down: list[tuple[int, int, list]] = []
        self._tracking: dict[int, list] = {}
        self._stale = 0

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def __bool__(self) -> bool:
        return bool(self._orders)

    def add(self, record: list) -> None:
        """File a record: armed (waiting for its stop price) or tracking."""
        order_id = record[ID]
        if order_id in self._orders:
            raise ValueError(f"stop order {order_id} is already pending")
        self._orders[order_id] = record
        if record[ARMED]:
            stop = record[STOP]
            if fires_up(record[TYPE], record[SIDE]):
                heappush(self._up, (stop, order_id, record))
            else:
                heappush(self._down, (-stop, order_id, record))
        else:
            self._tracking[order_id] = record

    def remove(self, order_id: int) -> list | None:
        """Take a pending order out; its record, or None."""
        record = self._orders.pop(order_id, None)
        if record is None:
            return None
        if record[ARMED]:
            self._stale += 1
            if self._stale > _STALE_SLACK and self._stale > len(self._orders):
                self._purge()
        else:
            del self._tracking[order_id]
        return record

    def get(self, order_id: int) -> list | None:
        return self._orders.get(order_id)

    def records(self) -> list[list]:
        """Copies of every pending record, in order_id order."""
        return [list(self._orders[i]) for i in sorted(self._orders)]

    def trade(self, price: int, moved: dict[int, int]) -> list[list]:
        """Apply one trade at ``price``: return the records it fires (removed from
        the book, in order_id order) and note in ``moved`` every trailing stop
        whose tracking began or whose extreme changed."""
        orders = self._orders
        fired: list[list] = []
        up = self._up
        while up and up[0][0] <= price:
            _, order_id, record = heappop(up)
            if orders.get(order_id) is not record:
                self._stale -= 1
                continue
            self._arm_met(record, price, fired, moved)
        down = self._down
        while down and -down[0][0] >= price:
            _, order_id, record = heappop(down)
            if orders.get(order_id) is not record:
                self._stale -= 1
                continue
            self._arm_met(record, price, fired, moved)
        tracking = self._tracking
        if tracking:
            scaled = price * BIPS
            for record in list(tracking.values()):
                extreme = record[EXTREME]
                if extreme is None:
                    record[EXTREME] = price
                    moved[record[ID]] = price
                elif record[SIDE] == BUY:
                    if price < extreme:
                        record[EXTREME] = price
                        moved[record[ID]] = price
                    elif scaled >= extreme * (BIPS + record[DELTA]):
                        self._fire_tracking(record, fired, moved)
                elif price > extreme:
                    record[EXTREME] = price
                    moved[record[ID]] = price
                elif scaled <= extreme * (BIPS - record[DELTA]):
                    self._fire_tracking(record, fired, moved)
        if len(fired) > 1:
            fired.sort(key=_by_id)
        return fired

    def _fire_tracking(self, record: list, fired: list, moved: dict) -> None:
        order_id = record[ID]
        del self._tracking[order_id]
        del self._orders[order_id]
        moved.pop(order_id, None)
        fired.append(record)

    def _arm_met(self, record: list, price: int, fired: list, moved: dict) -> None:
        order_id = record[ID]
        if record[DELTA]:
            # The stop price only starts the tracking; this trade is the extreme.
            record[ARMED] = False
            record[EXTREME] = price
            self._tracking[order_id] = record
            moved[order_id] = price
        else:
            del self._orders[order_id]
            fired.append(record)

    def _purge(self) -> None:
        orders = self._orders
        self._up = [e for e in self._up if orders.get(e[1]) is e[2]]
        self._down = [e for e in self._down if orders.get(e[1]) is e[2]]
        heapify(self._up)
        heapify(self._down)
        self._stale = 0

    def check_invariants(self) -> None:
        """Raise AssertionError unless the heaps and the tracking set are exact."""
        orders = self._orders
        armed = {i for i, r in orders.items() if r[ARMED]}
        tracking = {i for i, r in orders.items() if not r[ARMED]}
        assert set(self._tracking) == tracking, "tracking set out of step"
        live = [e for e in self._up + self._down if orders.get(e[1]) is e[2]]
        assert len(live) == len(armed), "an armed stop missing or filed twice"
        assert {e[1] for e in live} == armed, "an armed stop is missing from its heap"
        for key, _, record in live:
            assert key == (
                record[STOP] if fires_up(record[TYPE], record[SIDE]) else -record[STOP]
            ), "heap key is not the stop price"
        entries = len(self._up) + len(self._down)
        assert entries - len(live) == self._stale, "stale count"
        for heap in (self._up, self._down):
            for i in range(1, len(heap)):
                assert heap[(i - 1) // 2][:2] <= heap[i][:2], "heap order broken"
        for record in orders.values():
            assert record[QTY] > 0, "pending stop without quantity"
            assert record[STOP] > 0 or record[DELTA] > 0, "neither stop nor delta"
            if record[ARMED]:
                assert record[STOP] > 0, "armed without a stop price"
            else:
                assert record[DELTA] > 0, "tracking without a delta"


def _by_id(record: list) -> int:
    return record[ID]
