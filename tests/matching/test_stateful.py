"""Hypothesis drives the engine and the reference book side by side, stop orders
and order lists included."""

import random

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from matching.engine import (
    BUY,
    EXPIRE_BOTH,
    EXPIRE_MAKER,
    EXPIRE_TAKER,
    FOK,
    GTC,
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    STP_NONE,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    NewOrder,
    OrderBook,
    Triggered,
)
from tests.matching.reference import ReferenceBook
from tests.matching.streams import _random_list

sides = st.sampled_from((BUY, SELL))
owners = st.integers(1, 3)
prices = st.integers(95, 105)
quantities = st.integers(1, 8)
stp_modes = st.sampled_from((STP_NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH))
stop_types = st.sampled_from(
    (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT)
)


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook()
        self.reference = ReferenceBook()
        self.next_id = 1
        self.next_list = 1

    def _advance(self, events) -> None:
        for event in events:
            if isinstance(event, Triggered):
                self.next_id = max(self.next_id, event.priority + 1)

    def _place(self, cmd: NewOrder) -> None:
        self.next_id += 1
        result = self.book.place(*cmd)
        assert result == self.reference.place(cmd)
        self._advance(result.events)

    def _members(self) -> set[int]:
        return {i for lst in self.reference.list_view() for i in lst[5]}

    def _ids(self) -> list[int]:
        members = self._members()
        return [o[0] for o in self.reference.orders() if o[0] not in members]

    @rule(
        side=sides,
        owner=owners,
        price=prices,
        qty=quantities,
        tif=st.sampled_from((GTC, GTC, IOC, FOK)),
        stp=stp_modes,
    )
    def place_limit(self, side, owner, price, qty, tif, stp):
        self._place(
            NewOrder(self.next_id, owner, side, LIMIT, tif, price, qty, stp=stp)
        )

    @rule(side=sides, owner=owners, price=prices, qty=quantities)
    def place_limit_maker(self, side, owner, price, qty):
        self._place(
            NewOrder(self.next_id, owner, side, LIMIT_MAKER, price=price, qty=qty)
        )

    @rule(side=sides, owner=owners, qty=st.integers(0, 20), stp=stp_modes)
    def place_market_by_quantity(self, side, owner, qty, stp):
        self._place(NewOrder(self.next_id, owner, side, MARKET, qty=qty, stp=stp))

    @rule(side=sides, owner=owners, quote=st.integers(0, 2000), stp=stp_modes)
    def place_market_by_quote(self, side, owner, quote, stp):
        self._place(
            NewOrder(self.next_id, owner, side, MARKET, quote_qty=quote, stp=stp)
        )

    @precondition(lambda self: len(self._ids()) > 0)
    @rule(data=st.data())
    def cancel_resting(self, data):
        order_id = data.draw(st.sampled_from(self._ids()))
        assert self.book.cancel(order_id) == self.reference.cancel(order_id)

    @rule(order_id=st.integers(-2, 200))
    def cancel_any(self, order_id):
        if order_id in self._members():
            return  # a list leg goes with its list (cancel_list)
        assert self.book.cancel(order_id) == self.reference.cancel(order_id)

    @rule(
        side=sides,
        owner=owners,
        order_type=stop_types,
        offset=st.integers(-2, 6),
        delta=st.sampled_from((0, 0, 100, 300, 700)),
        no_stop=st.booleans(),
        slack=st.integers(-2, 4),
        qty=quantities,
        stp=stp_modes,
    )
    def place_stop(
        self, side, owner, order_type, offset, delta, no_stop, slack, qty, stp
    ):
        last = self.reference.last or 100
        up = (order_type in (STOP_LOSS, STOP_LOSS_LIMIT)) == (side == BUY)
        stop = last + offset if up else last - offset
        if delta and no_stop:
            stop = 0
        price = (stop or last) + (slack if side == BUY else -slack)
        cmd = NewOrder(
            self.next_id, owner, side, order_type, GTC, max(price, 1), qty, 0, stp,
            max(stop, 0), delta,
        )  # fmt: skip
        self._place(cmd)

    @rule(seed=st.integers(0, 2**32))
    def place_list(self, seed):
        last = self.reference.last or 100
        kind, list_id, legs = _random_list(
            random.Random(seed), self.next_id, self.next_list, last
        )
        result = self.book.place_list(kind, list_id, legs)
        assert result == self.reference.place_list(kind, list_id, legs)
        self.next_list += 1
        self.next_id = legs[-1].order_id + 1
        self._advance(result.events)

    @precondition(lambda self: len(self.reference.lists) > 0)
    @rule(data=st.data())
    def cancel_list(self, data):
        list_id = data.draw(st.sampled_from(sorted(self.reference.lists)))
        assert self.book.cancel_list(list_id) == self.reference.cancel_list(list_id)

    @precondition(lambda self: len(self.reference.stops) > 0)
    @rule(data=st.data())
    def cancel_pending_stop(self, data):
        ids = [s[0] for s in self.reference.pending() if s[0] not in self._members()]
        if ids:
            order_id = data.draw(st.sampled_from(ids))
            assert self.book.cancel(order_id) == self.reference.cancel(order_id)

    @rule(data=st.data(), owner=owners, side=sides, price=prices, qty=quantities)
    def upsert(self, data, owner, side, price, qty):
        """A sync step: any id, old or resting, at a price that does not cross."""
        order_id = data.draw(st.integers(1, self.next_id + 2))
        taken = self._members() | set(self.book.priorities().values())
        taken |= {s[0] for s in self.reference.pending()}
        if order_id in taken:
            return  # a sync step never makes a list leg or a stop rest
        opposite = (
            self.reference.best_ask() if side == BUY else self.reference.best_bid()
        )
        if opposite is not None:
            price = (
                min(price, opposite - 1) if side == BUY else max(price, opposite + 1)
            )
        existing = self.reference.get(order_id)
        if existing is not None and existing[2] != side:
            # Switching sides could cross; keep it where it is.
            side, price = existing[2], existing[3]
        priority = self.book.priorities().get(order_id)
        self.book.upsert(order_id, owner, side, price, qty, priority)
        self.reference.upsert(order_id, owner, side, price, qty, priority)
        self.next_id = max(self.next_id, order_id + 1)

    @precondition(lambda self: len(self._ids()) > 0)
    @rule(data=st.data())
    def remove(self, data):
        order_id = data.draw(st.sampled_from(self._ids()))
        assert self.book.remove(order_id) is self.reference.remove(order_id) is True

    @invariant()
    def same_book(self):
        self.book.check_invariants()
        assert list(self.book.orders()) == self.reference.orders()
        assert self.book.depth(3) == self.reference.depth(3)
        assert self.book.best_bid() == self.reference.best_bid()
        assert self.book.best_ask() == self.reference.best_ask()
        assert len(self.book) == len(self.reference)
        assert self.book.pending() == self.reference.pending()
        assert self.book.lists() == self.reference.list_view()
        assert self.book.last_price == self.reference.last
        assert self.book.priorities() == self.reference.priorities()

    @invariant()
    def snapshot_round_trips(self):
        copy = OrderBook.restore(self.book.snapshot())
        copy.check_invariants()
        assert copy.snapshot() == self.book.snapshot()


BookMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, derandomize=True, deadline=None
)
TestBookMachine = BookMachine.TestCase
