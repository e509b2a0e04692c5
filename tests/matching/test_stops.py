"""Stop orders, trailing stops and order lists, rule by rule on small books.

The trailing scenarios are Binance's own (trailing-stop FAQ, scenarios A and E),
in ticks of 1.
"""

import json

import pytest

from matching.engine import (
    BUY,
    CANCELED,
    EXPIRED,
    FILLED,
    GTC,
    INVALID_STOP,
    LIMIT,
    LIMIT_MAKER,
    NEW,
    OCO,
    OTO,
    OTOCO,
    PENDING_NEW,
    PRICE_RELATIONSHIP,
    REJECTED,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    WOULD_TRIGGER,
    NewOrder,
    OrderBook,
    OrderUpdate,
    Tracking,
    Triggered,
)
from matching.registry import BookSlot

MAKER, TAKER, TRADER = 900, 901, 7


class Tape:
    """Prints trades at chosen prices between two accounts, with fresh ids."""

    def __init__(self, book: OrderBook, next_id: int = 1_000) -> None:
        self.book = book
        self.next_id = next_id

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def trade(self, price: int):
        """One lot changes hands at ``price``; the taker's result."""
        self.book.place(self.new_id(), MAKER, SELL, LIMIT, GTC, price, 1)
        result = self.book.place(self.new_id(), TAKER, BUY, LIMIT, GTC, price, 1)
        assert result.fills and result.fills[0][2] == price
        for event in result.events:
            if isinstance(event, Triggered):
                self.next_id = max(self.next_id, event.priority)
        self.book.check_invariants()
        return result


def stop(order_id, side, order_type, stop_price=0, delta=0, price=0, qty=5):
    return NewOrder(
        order_id, TRADER, side, order_type, GTC, price, qty, 0, "NONE",
        stop_price, delta,
    )  # fmt: skip


def triggered(result) -> list[int]:
    return [e.order_id for e in result.events if isinstance(e, Triggered)]


# -- plain stop prices: which side of the market each type waits on


@pytest.mark.parametrize(
    ("side", "order_type", "stop_price", "fires_at", "holds_at"),
    [
        (BUY, STOP_LOSS, 105, 105, 104),
        (BUY, STOP_LOSS_LIMIT, 105, 106, 104),
        (SELL, TAKE_PROFIT, 105, 105, 104),
        (SELL, TAKE_PROFIT_LIMIT, 105, 107, 103),
        (SELL, STOP_LOSS, 95, 95, 96),
        (SELL, STOP_LOSS_LIMIT, 95, 90, 99),
        (BUY, TAKE_PROFIT, 95, 95, 96),
        (BUY, TAKE_PROFIT_LIMIT, 95, 94, 97),
    ],
)
def test_a_stop_fires_when_the_last_price_reaches_its_stop(
    side, order_type, stop_price, fires_at, holds_at
):
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    limit = 120 if side == BUY else 80  # a limit far through: it trades
    result = book.place(*stop(1, side, order_type, stop_price, price=limit))
    assert (result.status, result.remaining) == (NEW, 0)
    assert book.is_pending(1) and 1 not in book
    assert triggered(tape.trade(holds_at)) == []
    assert book.is_pending(1)
    assert triggered(tape.trade(fires_at)) == [1]
    assert not book.is_pending(1)


@pytest.mark.parametrize(
    ("side", "order_type", "stop_price"),
    [(BUY, STOP_LOSS, 100), (BUY, STOP_LOSS, 99), (SELL, TAKE_PROFIT, 98)]
    + [(SELL, STOP_LOSS, 101), (BUY, TAKE_PROFIT_LIMIT, 100)],
)
def test_a_stop_already_met_is_refused(side, order_type, stop_price):
    book = OrderBook()
    Tape(book).trade(100)
    result = book.place(*stop(1, side, order_type, stop_price, price=100))
    assert (result.status, result.reject_reason) == (REJECTED, WOULD_TRIGGER)
    assert not book.is_pending(1)


def test_without_a_trade_yet_no_stop_is_refused_as_met():
    book = OrderBook()
    assert book.place(*stop(1, BUY, STOP_LOSS, 1)).status == NEW


def test_a_stop_needs_a_stop_price_or_a_delta_in_range():
    book = OrderBook()
    for bad in (stop(1, BUY, STOP_LOSS), stop(2, SELL, STOP_LOSS, delta=10_000)):
        result = book.place(*bad)
        assert (result.status, result.reject_reason) == (REJECTED, INVALID_STOP)
    assert book.pending() == []


# -- trailing stops (Binance's scenarios)


def test_scenario_a_trailing_stop_loss_limit_buy():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(40_000)
    order = stop(1, BUY, STOP_LOSS_LIMIT, 44_000, delta=500, price=45_000)
    assert book.place(*order).status == NEW
    tape.trade(37_000)  # a fall of 750 BIPS, ignored: not tracking yet
    assert book.pending()[0][10:] == (None, True)
    result = tape.trade(44_000)  # the stop price: tracking from 44,000
    assert Tracking(1, 44_000) in result.events
    tape.trade(46_000)  # 454 BIPS up from the lowest: not enough
    tape.trade(42_000)  # a new lowest
    assert book.pending()[0][10:] == (42_000, False)
    assert triggered(tape.trade(44_099)) == []
    assert triggered(tape.trade(44_100)) == [1]  # 42,000 * 1.05


def test_scenario_e_trailing_without_a_stop_price_starts_at_the_last_price():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(40_000)
    result = book.place(*stop(1, SELL, STOP_LOSS_LIMIT, delta=700, price=39_000))
    assert result.events == (Tracking(1, 40_000),)
    tape.trade(42_000)
    tape.trade(39_500)  # 595 BIPS down from 42,000
    tape.trade(45_500)
    assert triggered(tape.trade(42_316)) == []
    assert triggered(tape.trade(42_315)) == [1]  # 45,500 * 0.93


def test_a_trailing_stop_placed_before_any_trade_tracks_from_the_next():
    book = OrderBook()
    book.place(*stop(1, BUY, TAKE_PROFIT, delta=1_000))
    assert book.pending()[0][10:] == (None, False)
    tape = Tape(book)
    tape.trade(100)
    assert book.pending()[0][10] == 100
    assert triggered(tape.trade(110)) == [1]


# -- what a triggered order does


def test_a_triggered_limit_queues_behind_orders_that_came_before_its_trigger():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    # A sell stop whose limit rests at 100, then a plain sell at 100.
    book.place(*stop(1, SELL, STOP_LOSS_LIMIT, 95, price=100, qty=3))
    book.place(2, 8, SELL, LIMIT, GTC, 100, 4)
    book.place(3, 9, BUY, LIMIT, GTC, 95, 1)
    result = book.place(5, 10, SELL, LIMIT, GTC, 95, 1)
    assert result.fills == [(3, 9, 95, 1, 0)]
    (event,) = result.events
    assert (event.order_id, event.priority, event.result.status) == (1, 6, NEW)
    assert event.result.remaining == 3
    # Order 2 came before the trigger, so it fills first.
    fills = book.place(7, 11, BUY, LIMIT, GTC, 100, 5).fills
    assert [(f[0], f[3]) for f in fills] == [(2, 4), (1, 1)]
    assert book.get(1) == (1, TRADER, SELL, 100, 2)
    assert book.priorities() == {1: 6}
    assert book.cancel(1) == 2 and book.priorities() == {}
    book.check_invariants()


def test_a_triggered_order_can_trigger_the_next_in_one_command():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    book.place(1, 8, SELL, LIMIT, GTC, 101, 5)
    book.place(2, 8, SELL, LIMIT, GTC, 103, 5)
    book.place(*stop(3, BUY, STOP_LOSS, 101, qty=6))  # a market for 6: to 103
    book.place(*stop(4, BUY, STOP_LOSS, 103, qty=1))
    result = book.place(5, 9, BUY, LIMIT, GTC, 101, 1)
    assert [(e.order_id, e.priority) for e in result.events] == [(3, 6), (4, 7)]
    assert result.events[0].result.fills == [(1, 8, 101, 4, 0), (2, 8, 103, 2, 3)]
    assert result.events[1].result.status == FILLED
    assert book.last_price == 103 and book.pending() == []


def test_stops_fired_by_one_trade_run_in_order_id_order():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    book.place(*stop(1, BUY, STOP_LOSS, 104, qty=1))
    book.place(*stop(2, BUY, STOP_LOSS, 102, qty=1))
    book.place(3, 8, SELL, LIMIT, GTC, 105, 9)
    result = tape.trade(105)
    assert triggered(result) == [1, 2]


# -- order lists


def oco_sell(first_id=1, qty=5):
    """Take profit at 110 (a resting LIMIT_MAKER), stop loss at 90."""
    return [
        NewOrder(first_id, TRADER, SELL, LIMIT_MAKER, price=110, qty=qty),
        stop(first_id + 1, SELL, STOP_LOSS_LIMIT, 90, price=89, qty=qty),
    ]


def test_oco_limit_leg_trading_expires_the_stop_leg():
    book = OrderBook()
    Tape(book).trade(100)
    placed = book.place_list(OCO, 1, oco_sell())
    assert placed.reject_reason is None
    assert [leg.status for leg in placed.legs] == [NEW, NEW]
    assert book.lists() == [(1, OCO, None, (1, 2), (), (1, 2))]
    result = book.place(10, 8, BUY, LIMIT, GTC, 110, 2)
    assert result.fills == [(1, TRADER, 110, 2, 3)]
    assert result.events == (OrderUpdate(2, EXPIRED, 5),)
    assert book.pending() == [] and book.get(1)[4] == 3
    # The partly filled leg is still the list's, and goes with it.
    with pytest.raises(ValueError):
        book.cancel(1)
    assert book.cancel_list(1) == (OrderUpdate(1, CANCELED, 3),)
    assert book.lists() == [] and len(book) == 0
    book.check_invariants()


def test_oco_stop_leg_firing_expires_the_limit_leg():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    book.place_list(OCO, 1, oco_sell())
    book.place(10, 8, BUY, LIMIT, GTC, 89, 20)  # what the stop's limit meets
    result = tape.trade(90)
    assert result.events[0] == OrderUpdate(1, EXPIRED, 5)
    fired = result.events[1]
    assert fired.order_id == 2 and fired.result.fills == [(10, 8, 89, 5, 15)]
    assert book.lists() == [] and 1 not in book


def test_oco_prices_must_straddle_the_last_price():
    book = OrderBook()
    Tape(book).trade(100)
    legs = oco_sell()
    too_low = [legs[0]._replace(price=100), legs[1]]
    result = book.place_list(OCO, 1, too_low)
    assert (result.reject_reason, result.legs) == (PRICE_RELATIONSHIP, ())
    assert book.lists() == [] and book.pending() == [] and 1 not in book


def test_oto_pending_order_starts_when_the_working_order_fills():
    book = OrderBook()
    Tape(book).trade(100)
    working = NewOrder(1, TRADER, BUY, LIMIT, GTC, 99, 4)
    pending = NewOrder(2, TRADER, SELL, LIMIT, GTC, 105, 4)
    placed = book.place_list(OTO, 1, [working, pending])
    assert [leg.status for leg in placed.legs] == [NEW, PENDING_NEW]
    assert not book.is_pending(2) and 2 not in book
    result = book.place(10, 8, SELL, LIMIT, GTC, 99, 4)
    (event,) = result.events
    assert (event.order_id, event.priority, event.result.status) == (2, 11, NEW)
    assert book.get(2) == (2, TRADER, SELL, 105, 4)
    assert book.lists() == [(1, OTO, 1, None, (), (2,))]


def test_oto_working_order_cancelled_cancels_the_pending_one():
    book = OrderBook()
    working = NewOrder(1, TRADER, BUY, LIMIT, GTC, 99, 4)
    pending = stop(2, SELL, STOP_LOSS, 90, qty=4)
    book.place_list(OTO, 1, [working, pending])
    updates = book.cancel_list(1)
    assert updates == (OrderUpdate(1, CANCELED, 4), OrderUpdate(2, CANCELED, 4))
    assert len(book) == 0 and book.lists() == []


def test_oto_working_order_expiring_expires_the_pending_one():
    book = OrderBook()
    book.place(1, 8, SELL, LIMIT, GTC, 99, 1)
    working = NewOrder(2, TRADER, BUY, LIMIT, "IOC", 99, 4)
    pending = stop(3, SELL, STOP_LOSS, 90, qty=4)
    placed = book.place_list(OTO, 1, [working, pending])
    assert placed.legs[0].status == EXPIRED and placed.legs[0].executed_qty == 1
    assert placed.events == (OrderUpdate(3, EXPIRED, 4),)
    assert book.lists() == []


def test_otoco_activates_an_oco_pair():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    working = NewOrder(1, TRADER, BUY, LIMIT, GTC, 100, 5)
    above = NewOrder(2, TRADER, SELL, LIMIT_MAKER, price=110, qty=5)
    below = stop(3, SELL, STOP_LOSS, 95, qty=5)
    placed = book.place_list(OTOCO, 1, [working, above, below])
    assert [leg.status for leg in placed.legs] == [NEW, PENDING_NEW, PENDING_NEW]
    result = book.place(10, 8, SELL, LIMIT, GTC, 100, 5)
    assert result.events[0] == OrderUpdate(3, NEW, 5)
    assert result.events[1].order_id == 2 and result.events[1].result.status == NEW
    assert book.lists() == [(1, OTOCO, 1, (2, 3), (), (2, 3))]
    book.place(20, 8, BUY, LIMIT, GTC, 96, 1)
    book.place(21, 8, BUY, LIMIT, GTC, 95, 1)
    result = book.place(22, 9, SELL, LIMIT, GTC, 95, 2)  # trades 96, then 95
    assert OrderUpdate(2, EXPIRED, 5) in result.events
    assert triggered(result) == [3]
    assert book.lists() == []


def test_snapshot_with_stops_lists_and_priorities_round_trips_as_json():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    book.place_list(OCO, 1, oco_sell(1))
    book.place(*stop(3, BUY, TAKE_PROFIT, delta=300))
    book.place(*stop(4, SELL, STOP_LOSS_LIMIT, 98, price=97, qty=2))
    book.place(5, 8, BUY, LIMIT, GTC, 96, 1)
    tape.trade(98)  # order 4 fires, rests at 97 under a new priority
    assert book.priorities() and book.pending() and book.lists()
    snapshot = json.loads(json.dumps(book.snapshot()))
    copy = OrderBook.restore(snapshot)
    copy.check_invariants()
    assert copy.snapshot() == book.snapshot()
    assert list(copy.orders()) == list(book.orders())


def test_a_sync_step_can_put_a_triggered_order_back_at_its_priority():
    book = OrderBook()
    book.upsert(5, 1, SELL, 100, 3)
    book.upsert(2, 1, SELL, 100, 3, priority=9)
    book.upsert(7, 1, SELL, 100, 3)
    assert [o[0] for o in book.orders()] == [5, 7, 2]
    assert book.remove(2) and book.priorities() == {}
    book.check_invariants()


@pytest.mark.parametrize(
    ("kind", "legs"),
    [
        (OCO, oco_sell()[:1]),  # one leg
        (OCO, [oco_sell()[0], oco_sell()[0]._replace(order_id=2)]),  # two above
        (OCO, [oco_sell()[0], oco_sell()[1]._replace(stp="SOMETIMES")]),
        (OTO, [stop(1, BUY, STOP_LOSS, 90), stop(2, BUY, STOP_LOSS, 90)]),
        (OTO, [NewOrder(2, TRADER, BUY, LIMIT, GTC, 99, 1), oco_sell(1)[0]]),
    ],
)
def test_a_list_of_the_wrong_shape_raises_and_touches_nothing(kind, legs):
    book = OrderBook()
    book.place(50, 8, SELL, LIMIT, GTC, 120, 1)
    before = book.snapshot()
    with pytest.raises(ValueError):
        book.place_list(kind, 1, legs)
    assert book.snapshot() == before
    book.check_invariants()


def test_a_registry_slot_rebuilds_stops_lists_and_priorities_from_rows():
    book = OrderBook()
    tape = Tape(book)
    tape.trade(100)
    book.place_list(OCO, 1, oco_sell(1))
    book.place(*stop(3, BUY, TAKE_PROFIT, delta=300))
    book.place(*stop(4, SELL, STOP_LOSS_LIMIT, 98, price=97, qty=2))
    book.place(5, 8, BUY, LIMIT, GTC, 96, 1)
    tape.trade(98)
    rows = [(*order, True) for order in book.orders()]
    slot = BookSlot("BTCUSDT")
    slot.rebuild(
        rows,
        7,
        priorities=book.priorities(),
        stops=book.pending(),
        lists=book.lists(),
        last_price=book.last_price,
    )
    slot.book.check_invariants()
    assert slot.book.snapshot() == book.snapshot()


def test_an_oco_leg_filled_in_the_execution_that_meets_the_stop_expires_it():
    """One taker meets the stop's price and fills the limit leg: the execution
    is whole before the trigger book sees its prices, so the stop expires."""
    book = OrderBook()
    Tape(book).trade(100)
    legs = [
        NewOrder(1, TRADER, SELL, LIMIT_MAKER, price=105, qty=4),
        stop(2, SELL, STOP_LOSS, 98, qty=4),
    ]
    book.place_list(OCO, 1, legs)
    book.place(3, 8, SELL, LIMIT_MAKER, price=95, qty=1)
    result = book.place(4, 9, BUY, LIMIT, GTC, 105, 5)  # trades 95, then 105
    assert [f[0] for f in result.fills] == [3, 1]
    assert result.events == (OrderUpdate(2, EXPIRED, 4),)
    assert book.lists() == [] and book.pending() == []
