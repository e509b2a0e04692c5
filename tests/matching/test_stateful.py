"""Hypothesis drives the engine and the reference book side by side."""

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
    STP_NONE,
    NewOrder,
    OrderBook,
)
from tests.matching.reference import ReferenceBook

sides = st.sampled_from((BUY, SELL))
owners = st.integers(1, 3)
prices = st.integers(95, 105)
quantities = st.integers(1, 8)
stp_modes = st.sampled_from((STP_NONE, EXPIRE_TAKER, EXPIRE_MAKER, EXPIRE_BOTH))


class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook()
        self.reference = ReferenceBook()
        self.next_id = 1

    def _place(self, cmd: NewOrder) -> None:
        self.next_id += 1
        assert self.book.place(*cmd) == self.reference.place(cmd)

    def _ids(self) -> list[int]:
        return [o[0] for o in self.reference.orders()]

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

    @precondition(lambda self: len(self.reference) > 0)
    @rule(data=st.data())
    def cancel_resting(self, data):
        order_id = data.draw(st.sampled_from(self._ids()))
        assert self.book.cancel(order_id) == self.reference.cancel(order_id)

    @rule(order_id=st.integers(-2, 200))
    def cancel_any(self, order_id):
        assert self.book.cancel(order_id) == self.reference.cancel(order_id)

    @rule(data=st.data(), owner=owners, side=sides, price=prices, qty=quantities)
    def upsert(self, data, owner, side, price, qty):
        """A sync step: any id, old or resting, at a price that does not cross."""
        order_id = data.draw(st.integers(1, self.next_id + 2))
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
        self.book.upsert(order_id, owner, side, price, qty)
        self.reference.upsert(order_id, owner, side, price, qty)
        self.next_id = max(self.next_id, order_id + 1)

    @precondition(lambda self: len(self.reference) > 0)
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

    @invariant()
    def snapshot_round_trips(self):
        copy = OrderBook.restore(self.book.snapshot())
        assert list(copy.orders()) == list(self.book.orders())


BookMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, derandomize=True, deadline=None
)
TestBookMachine = BookMachine.TestCase
