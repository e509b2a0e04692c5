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
way out and purged when they outnumber the live ones). Tracking records sit in
four heaps, by extreme and by firing level for each side, so a trade touches only
the stops whose extreme it moves or whose level it reaches; an entry whose record
has moved on is stale, skipped, and dropped when the heaps are rebuilt.
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

    __slots__ = (
        "by_id",
        "_up",
        "_down",
        "_tracking",
        "_stale",
        "_unset",
        "_low",
        "_high",
        "_rise",
        "_fall",
    )

    def __init__(self) -> None:
        # Every pending record by order id (read-only outside this class).
        self.by_id: dict[int, list] = {}
        self._up: list[tuple[int, int, list]] = []
        self._down: list[tuple[int, int, list]] = []
        self._tracking: dict[int, list] = {}
        self._stale = 0
        # Tracking stops: those waiting for a first trade, then four heaps of
        # (key, order_id, record, extreme); an entry is live while its record is
        # pending, tracking, and still at that extreme. BUYs by highest lowest
        # (a lower trade moves them) and by lowest firing level (extreme * (10000
        # + delta), reached by price * 10000); SELLs mirrored.
        self._unset: list[list] = []
        self._low: list[tuple] = []
        self._high: list[tuple] = []
        self._rise: list[tuple] = []
        self._fall: list[tuple] = []

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self.by_id

    def __bool__(self) -> bool:
        return bool(self.by_id)

    def add(self, record: list) -> None:
        """File a record: armed (waiting for its stop price) or tracking."""
        order_id = record[ID]
        if order_id in self.by_id:
            raise ValueError(f"stop order {order_id} is already pending")
        self.by_id[order_id] = record
        if record[ARMED]:
            stop = record[STOP]
            if fires_up(record[TYPE], record[SIDE]):
                heappush(self._up, (stop, order_id, record))
            else:
                heappush(self._down, (-stop, order_id, record))
        else:
            self._tracking[order_id] = record
            self._track(record)
            self._tidy()

    def _track(self, record: list) -> None:
        """File a tracking record under its extreme (or as waiting for one)."""
        extreme = record[EXTREME]
        if extreme is None:
            self._unset.append(record)
            return
        order_id = record[ID]
        if record[SIDE] == BUY:
            heappush(self._low, (-extreme, order_id, record, extreme))
            level = extreme * (BIPS + record[DELTA])
            heappush(self._rise, (level, order_id, record, extreme))
        else:
            heappush(self._high, (extreme, order_id, record, extreme))
            level = extreme * (BIPS - record[DELTA])
            heappush(self._fall, (-level, order_id, record, extreme))

    def _tidy(self) -> None:
        """Drop stale tracking entries once they are most of the heaps (never
        while ``_trail`` walks them)."""
        entries = len(self._low) + len(self._high)
        if entries > _STALE_SLACK and entries > 4 * len(self._tracking):
            self._retrack()

    def _retrack(self) -> None:
        """Rebuild the tracking heaps from the tracking records (drops stale)."""
        self._low, self._high, self._rise, self._fall = [], [], [], []
        self._unset = []
        for record in self._tracking.values():
            extreme = record[EXTREME]
            if extreme is None:
                self._unset.append(record)
            elif record[SIDE] == BUY:
                entry = (record[ID], record, extreme)
                self._low.append((-extreme, *entry))
                self._rise.append((extreme * (BIPS + record[DELTA]), *entry))
            else:
                entry = (record[ID], record, extreme)
                self._high.append((extreme, *entry))
                self._fall.append((-extreme * (BIPS - record[DELTA]), *entry))
        for heap in (self._low, self._high, self._rise, self._fall):
            heapify(heap)

    def remove(self, order_id: int) -> list | None:
        """Take a pending order out; its record, or None."""
        record = self.by_id.pop(order_id, None)
        if record is None:
            return None
        if record[ARMED]:
            self._stale += 1
            if self._stale > _STALE_SLACK and self._stale > len(self.by_id):
                self._purge()
        else:
            del self._tracking[order_id]
        return record

    def get(self, order_id: int) -> list | None:
        return self.by_id.get(order_id)

    def records(self) -> list[list]:
        """Copies of every pending record, in order_id order."""
        return [list(self.by_id[i]) for i in sorted(self.by_id)]

    def trade(self, price: int, moved: dict[int, int]) -> list[list]:
        """Apply one trade at ``price``: return the records it fires (removed from
        the book, in order_id order) and note in ``moved`` every trailing stop
        whose tracking began or whose extreme changed."""
        orders = self.by_id
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
        if self._tracking:
            self._trail(price, fired, moved)
            self._tidy()
        if len(fired) > 1:
            fired.sort(key=_by_id)
        return fired

    def _trail(self, price: int, fired: list, moved: dict) -> None:
        """Move the extremes ``price`` passes, then fire what it reaches."""
        orders = self.by_id
        if self._unset:
            waiting, self._unset = self._unset, []
            for record in waiting:
                if orders.get(record[ID]) is record:
                    record[EXTREME] = price
                    moved[record[ID]] = price
                    self._track(record)
        low = self._low
        while low and -low[0][0] > price:
            _, order_id, record, extreme = heappop(low)
            if orders.get(order_id) is record and record[EXTREME] == extreme:
                record[EXTREME] = price
                moved[order_id] = price
                self._track(record)
        high = self._high
        while high and high[0][0] < price:
            _, order_id, record, extreme = heappop(high)
            if orders.get(order_id) is record and record[EXTREME] == extreme:
                record[EXTREME] = price
                moved[order_id] = price
                self._track(record)
        scaled = price * BIPS
        rise = self._rise
        while rise and rise[0][0] <= scaled:
            _, order_id, record, extreme = heappop(rise)
            if orders.get(order_id) is record and record[EXTREME] == extreme:
                self._fire_tracking(record, fired, moved)
        fall = self._fall
        while fall and -fall[0][0] >= scaled:
            _, order_id, record, extreme = heappop(fall)
            if orders.get(order_id) is record and record[EXTREME] == extreme:
                self._fire_tracking(record, fired, moved)

    def _fire_tracking(self, record: list, fired: list, moved: dict) -> None:
        order_id = record[ID]
        del self._tracking[order_id]
        del self.by_id[order_id]
        moved.pop(order_id, None)
        fired.append(record)

    def _arm_met(self, record: list, price: int, fired: list, moved: dict) -> None:
        order_id = record[ID]
        if record[DELTA]:
            # The stop price only starts the tracking; this trade is the extreme.
            record[ARMED] = False
            record[EXTREME] = price
            self._tracking[order_id] = record
            self._track(record)
            moved[order_id] = price
        else:
            del self.by_id[order_id]
            fired.append(record)

    def _purge(self) -> None:
        orders = self.by_id
        self._up = [e for e in self._up if orders.get(e[1]) is e[2]]
        self._down = [e for e in self._down if orders.get(e[1]) is e[2]]
        heapify(self._up)
        heapify(self._down)
        self._stale = 0

    def check_invariants(self) -> None:
        """Raise AssertionError unless the heaps and the tracking set are exact."""
        orders = self.by_id
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
        unset = [r for r in self._unset if orders.get(r[ID]) is r]
        assert all(r[EXTREME] is None for r in unset), "waiting with an extreme"
        tracked = {r[ID] for r in unset}
        for extremes, levels in ((self._low, self._rise), (self._high, self._fall)):
            live = [e for e in extremes if orders.get(e[1]) is e[2]]
            live = [e for e in live if e[2][EXTREME] == e[3] and not e[2][ARMED]]  # type: ignore[misc]
            live_levels = [e for e in levels if orders.get(e[1]) is e[2]]
            live_levels = [
                e for e in live_levels if e[2][EXTREME] == e[3] and not e[2][ARMED]
            ]
            assert len(live) == len({e[1] for e in live}), "tracked twice"
            assert {e[1] for e in live} == {e[1] for e in live_levels}, "levels"
            tracked |= {e[1] for e in live}
            for heap in (extremes, levels):
                for i in range(1, len(heap)):
                    assert heap[(i - 1) // 2][:2] <= heap[i][:2], "heap order"
        assert tracked == tracking, "a tracking stop is not filed"


def _by_id(record: list) -> int:
    return record[ID]
