"""Each matching rule on a small hand-built book."""

import json
import pickle

import pytest

from matching import engine
from matching.engine import (
    BUY,
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
    IOC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    REJECTED,
    SELL,
    STP_NONE,
    WOULD_TAKE,
    NewOrder,
    OrderBook,
    PlaceResult,
)


def limit(order_id, side, price, qty, owner=None, tif=GTC, stp=STP_NONE):
    owner = order_id if owner is None else owner
    return NewOrder(order_id, owner, side, LIMIT, tif, price=price, qty=qty, stp=stp)


def market(order_id, side, qty=0, quote=0, owner=None, stp=STP_NONE):
    owner = order_id if owner is None else owner
    return NewOrder(order_id, owner, side, MARKET, qty=qty, quote_qty=quote, stp=stp)


def book_with(*orders):
    book = OrderBook()
    for order in orders:
        assert book.place(*order).status == NEW
    book.check_invariants()
    return book


def asks_book():
    """Asks: 100 x [1:5, 2:5], 101 x [3:5], 102 x [4:5]; owners equal the ids."""
    return book_with(
        limit(1, SELL, 100, 5),
        limit(2, SELL, 100, 5),
        limit(3, SELL, 101, 5),
        limit(4, SELL, 102, 5),
    )


# -- price-time priority


def test_best_price_first_then_fifo_by_order_id_at_the_makers_price():
    book = asks_book()
    result = book.place(*limit(10, BUY, 105, 12))
    assert result.fills == [(1, 1, 100, 5, 0), (2, 2, 100, 5, 0), (3, 3, 101, 2, 3)]
    assert result.status == FILLED
    assert result.executed_qty == 12
    assert result.executed_quote == 5 * 100 + 5 * 100 + 2 * 101
    assert result.remaining == 0
    assert book.get(3) == (3, 3, SELL, 101, 3)
    book.check_invariants()


def test_a_partly_filled_maker_keeps_its_place():
    book = asks_book()
    book.place(*limit(10, BUY, 100, 3))
    book.place(*limit(11, SELL, 100, 1))
    result = book.place(*limit(12, BUY, 100, 3))
    assert result.fills == [(1, 1, 100, 2, 0), (2, 2, 100, 1, 4)]


def test_sell_taker_meets_the_highest_bid_first():
    book = book_with(limit(1, BUY, 98, 2), limit(2, BUY, 99, 2), limit(3, BUY, 99, 2))
    result = book.place(*limit(4, SELL, 98, 5))
    assert result.fills == [(2, 2, 99, 2, 0), (3, 3, 99, 2, 0), (1, 1, 98, 1, 1)]


def test_limit_does_not_trade_through_its_price():
    book = asks_book()
    result = book.place(*limit(10, BUY, 100, 20))
    assert [f[0] for f in result.fills] == [1, 2]
    assert result.status == PARTIALLY_FILLED
    assert result.remaining == 10
    assert book.best_bid() == 100 and book.best_ask() == 101
    book.check_invariants()


# -- time in force


def test_gtc_without_a_cross_rests_as_new():
    book = asks_book()
    result = book.place(*limit(10, BUY, 99, 4))
    assert (result.status, result.remaining, result.fills) == (NEW, 4, [])
    assert book.best_bid() == 99


def test_ioc_fills_what_it_can_and_expires_the_rest():
    book = asks_book()
    result = book.place(*limit(10, BUY, 100, 12, tif=IOC))
    assert (result.status, result.executed_qty, result.remaining) == (EXPIRED, 10, 0)
    assert 10 not in book
    assert book.place(*limit(11, BUY, 101, 5, tif=IOC)).status == FILLED
    assert book.place(*limit(12, BUY, 99, 5, tif=IOC)).status == EXPIRED


def test_fok_fills_in_full_or_leaves_the_book_untouched():
    book = asks_book()
    before = list(book.orders())
    result = book.place(*limit(10, BUY, 101, 16, tif=FOK))
    assert (result.status, result.fills, result.executed_qty) == (EXPIRED, [], 0)
    assert list(book.orders()) == before
    result = book.place(*limit(11, BUY, 101, 15, tif=FOK))
    assert result.status == FILLED and result.executed_qty == 15
    assert book.best_ask() == 102
    book.check_invariants()


# -- market


def test_market_by_quantity_never_rests():
    book = asks_book()
    result = book.place(*market(10, BUY, qty=12))
    assert (result.status, result.executed_qty) == (FILLED, 12)
    result = book.place(*market(11, BUY, qty=50))
    assert (result.status, result.executed_qty, result.remaining) == (EXPIRED, 8, 0)
    assert len(book) == 0
    result = book.place(*market(12, SELL, qty=1))
    assert (result.status, result.fills) == (EXPIRED, [])


def test_market_by_quote_buys_whole_lots_level_by_level():
    book = asks_book()
    # 10 lots at 100 cost 1000; 350 left buys 3 lots at 101 (303); 47 is dust.
    result = book.place(*market(10, BUY, quote=1350))
    assert result.fills == [(1, 1, 100, 5, 0), (2, 2, 100, 5, 0), (3, 3, 101, 3, 2)]
    assert (result.status, result.executed_qty, result.executed_quote) == (
        FILLED,
        13,
        1303,
    )


def test_market_by_quote_sells_until_the_next_lot_would_overshoot():
    book = book_with(limit(1, BUY, 99, 2), limit(2, BUY, 50, 10))
    result = book.place(*market(3, SELL, quote=250))
    # 2 lots at 99 = 198; 52 left buys 1 lot at 50; 2 is dust.
    assert result.fills == [(1, 1, 99, 2, 0), (2, 2, 50, 1, 9)]
    assert result.status == FILLED and result.executed_quote == 248


def test_market_by_quote_expires_when_the_book_runs_out_or_cannot_afford_a_lot():
    book = asks_book()
    result = book.place(*market(10, BUY, quote=10**6))
    assert (result.status, result.executed_qty) == (EXPIRED, 20)
    book = asks_book()
    result = book.place(*market(11, BUY, quote=99))
    assert (result.status, result.fills) == (EXPIRED, [])
    assert len(book) == 4


def test_market_needs_exactly_one_of_quantity_and_quote():
    book = asks_book()
    for cmd in (
        market(10, BUY),
        market(11, BUY, qty=1, quote=100),
        market(12, BUY, -1),
    ):
        result = book.place(*cmd)
        assert (result.status, result.reject_reason) == (REJECTED, INVALID_QTY)
    assert len(book) == 4


# -- limit maker


def test_limit_maker_that_would_cross_is_rejected_and_touches_nothing():
    book = asks_book()
    before = list(book.orders())
    cmd = NewOrder(10, 10, BUY, LIMIT_MAKER, price=100, qty=1)
    result = book.place(*cmd)
    assert (result.status, result.reject_reason, result.fills) == (
        REJECTED,
        WOULD_TAKE,
        [],
    )
    assert list(book.orders()) == before
    result = book.place(*NewOrder(11, 11, BUY, LIMIT_MAKER, price=99, qty=1))
    assert (result.status, result.remaining) == (NEW, 1)


# -- self-trade prevention


def own_book():
    """Asks at 100: [1 owner 7, 2 owner 8, 3 owner 7]; an ask at 101 owner 9."""
    return book_with(
        limit(1, SELL, 100, 2, owner=7),
        limit(2, SELL, 100, 2, owner=8),
        limit(3, SELL, 100, 2, owner=7),
        limit(4, SELL, 101, 2, owner=9),
    )


def test_without_stp_an_owner_trades_with_itself():
    result = own_book().place(*limit(10, BUY, 100, 2, owner=7))
    assert result.fills == [(1, 7, 100, 2, 0)]


def test_expire_taker_stops_at_the_first_own_maker():
    book = own_book()
    result = book.place(*limit(10, BUY, 101, 5, owner=8, stp=EXPIRE_TAKER))
    assert result.fills == [(1, 7, 100, 2, 0)]
    assert result.status == EXPIRED_IN_MATCH and result.remaining == 0
    assert result.expired_makers == []
    assert book.get(2) == (2, 8, SELL, 100, 2)
    assert 10 not in book


def test_expire_maker_removes_own_makers_and_goes_on():
    book = own_book()
    result = book.place(*limit(10, BUY, 101, 4, owner=7, stp=EXPIRE_MAKER))
    assert result.expired_makers == [(1, 7, 2), (3, 7, 2)]
    assert result.fills == [(2, 8, 100, 2, 0), (4, 9, 101, 2, 0)]
    assert result.status == FILLED
    assert len(book) == 0


def test_expire_maker_rests_the_remainder_of_a_gtc_order():
    book = own_book()
    result = book.place(*limit(10, BUY, 100, 5, owner=7, stp=EXPIRE_MAKER))
    assert result.status == PARTIALLY_FILLED and result.remaining == 3
    assert book.best_bid() == 100 and book.best_ask() == 101
    book.check_invariants()


def test_expire_both_removes_the_maker_and_the_taker():
    book = own_book()
    result = book.place(*limit(10, BUY, 101, 5, owner=8, stp=EXPIRE_BOTH))
    assert result.fills == [(1, 7, 100, 2, 0)]
    assert result.expired_makers == [(2, 8, 2)]
    assert result.status == EXPIRED_IN_MATCH
    assert [o[0] for o in book.orders()] == [3, 4]


def test_stp_applies_to_market_orders_too():
    book = own_book()
    result = book.place(*market(10, BUY, qty=3, owner=7, stp=EXPIRE_TAKER))
    assert (result.status, result.fills) == (EXPIRED_IN_MATCH, [])
    result = book.place(*market(11, BUY, quote=250, owner=7, stp=EXPIRE_MAKER))
    assert result.expired_makers == [(1, 7, 2)]
    assert result.fills == [(2, 8, 100, 2, 0)]
    assert result.status == FILLED  # 50 left cannot pay for a lot at 100


def test_fok_does_not_count_own_orders():
    book = own_book()
    # Under EXPIRE_MAKER the own orders 1 and 3 do not count: 2 + 2 < 5.
    before = list(book.orders())
    result = book.place(*limit(10, BUY, 101, 5, owner=7, tif=FOK, stp=EXPIRE_MAKER))
    assert (result.status, result.fills, result.expired_makers) == (EXPIRED, [], [])
    assert list(book.orders()) == before
    # 4 lots are there without them: it fills, expiring the own orders it meets.
    result = book.place(*limit(11, BUY, 101, 4, owner=7, tif=FOK, stp=EXPIRE_MAKER))
    assert result.status == FILLED
    assert result.expired_makers == [(1, 7, 2), (3, 7, 2)]


def test_fok_under_expire_taker_is_blocked_by_an_own_order_it_would_reach():
    book = own_book()
    result = book.place(*limit(10, BUY, 101, 3, owner=8, tif=FOK, stp=EXPIRE_TAKER))
    assert (result.status, result.fills) == (EXPIRED, [])
    # Filled before reaching the own order: fine.
    result = book.place(*limit(11, BUY, 101, 2, owner=8, tif=FOK, stp=EXPIRE_BOTH))
    assert result.status == FILLED and result.fills == [(1, 7, 100, 2, 0)]


# -- cancel, upsert, remove, reads


def test_cancel_from_the_middle_keeps_everyone_elses_place():
    book = book_with(*(limit(i, SELL, 100, 1) for i in range(1, 6)))
    assert book.cancel(3) == 1
    assert book.cancel(3) is None
    assert book.cancel(999) is None
    assert book.depth(1) == ([], [(100, 4)])
    result = book.place(*limit(10, BUY, 100, 4))
    assert [f[0] for f in result.fills] == [1, 2, 4, 5]
    assert len(book) == 0
    book.check_invariants()


def test_many_cancels_in_one_level_are_purged_and_stay_exact():
    book = book_with(*(limit(i, SELL, 100, i) for i in range(1, 201)))
    for order_id in range(2, 200, 2):
        assert book.cancel(order_id) == order_id
        book.check_invariants()
    assert book.depth(1)[1] == [(100, sum(range(1, 201, 2)) + 200)]
    result = book.place(*limit(1000, BUY, 100, 4))
    assert result.fills == [(1, 1, 100, 1, 0), (3, 3, 100, 3, 0)]
    book.check_invariants()


def test_emptied_levels_deep_in_the_book_never_show():
    book = OrderBook()
    for i in range(1, 301):
        book.place(*limit(i, BUY, 1000 - i, 1))
    for i in range(2, 301):
        book.cancel(i)
        book.check_invariants()
    assert book.depth(10) == ([(999, 1)], [])
    assert book.best_bid() == 999
    book.cancel(1)
    assert book.best_bid() is None and book.depth(5) == ([], [])
    book.check_invariants()


def test_upsert_queues_by_order_id_not_by_call_order():
    book = OrderBook()
    book.upsert(30, 3, SELL, 100, 1)
    book.upsert(10, 1, SELL, 100, 1)
    book.upsert(20, 2, SELL, 100, 1)
    book.check_invariants()
    assert [o[0] for o in book.orders()] == [10, 20, 30]
    result = book.place(*limit(40, BUY, 100, 3))
    assert [f[0] for f in result.fills] == [10, 20, 30]


def test_upsert_of_a_resting_order_updates_it_in_place():
    book = book_with(limit(1, SELL, 100, 5), limit(2, SELL, 100, 5))
    book.upsert(1, 1, SELL, 100, 2)
    assert book.get(1) == (1, 1, SELL, 100, 2)
    assert book.depth(1) == ([], [(100, 7)])
    assert [o[0] for o in book.orders()] == [1, 2]
    book.upsert(1, 1, SELL, 101, 2)  # moved: now behind the level at 100
    assert book.depth(5) == ([], [(100, 5), (101, 2)])
    book.check_invariants()


def test_an_id_cancelled_then_synced_back_is_queued_once_at_its_place():
    book = book_with(*(limit(i, SELL, 100, 1) for i in range(1, 5)))
    book.cancel(2)  # a tombstone in the middle of the level
    book.upsert(2, 2, SELL, 100, 3)  # back in its own slot, not queued twice
    book.check_invariants()
    assert [o[0] for o in book.orders()] == [1, 2, 3, 4]
    assert book.cancel(4) == 1  # the newest, popped from the tail
    book.cancel(2)
    book.upsert(2, 2, SELL, 101, 1)  # its tombstone stays behind at 100
    book.check_invariants()
    result = book.place(*limit(10, BUY, 100, 5))
    assert [f[0] for f in result.fills] == [1, 3]
    assert book.get(2) == (2, 2, SELL, 101, 1)
    assert book.depth(5) == ([(100, 3)], [(101, 1)])
    book.check_invariants()


def test_remove_and_contains():
    book = book_with(limit(1, SELL, 100, 5))
    assert 1 in book and len(book) == 1
    assert book.remove(1) is True
    assert book.remove(1) is False
    assert 1 not in book and len(book) == 0
    assert book.get(1) is None


def test_depth_aggregates_levels_best_first():
    book = book_with(
        limit(1, BUY, 98, 1),
        limit(2, BUY, 99, 2),
        limit(3, BUY, 99, 3),
        limit(4, BUY, 97, 4),
        limit(5, SELL, 101, 5),
        limit(6, SELL, 103, 6),
        limit(7, SELL, 101, 7),
    )
    assert book.depth(2) == ([(99, 5), (98, 1)], [(101, 12), (103, 6)])
    assert book.depth(10) == ([(99, 5), (98, 1), (97, 4)], [(101, 12), (103, 6)])
    assert book.depth(0) == ([], [])


def test_snapshot_is_plain_data_and_restores_the_same_book():
    book = asks_book()
    book.place(*limit(10, BUY, 99, 3))
    book.upsert(5, 5, BUY, 99, 1)
    book.cancel(2)
    snapshot = book.snapshot()
    assert json.loads(json.dumps(snapshot)) == snapshot
    for data in (
        snapshot,
        json.loads(json.dumps(snapshot)),
        pickle.loads(pickle.dumps(snapshot)),  # noqa: S301 - our own bytes
    ):
        copy = OrderBook.restore(data)
        copy.check_invariants()
        assert list(copy.orders()) == list(book.orders())
        assert copy.depth(10) == book.depth(10)
        assert copy.place(*limit(20, SELL, 99, 4)) == book.place(
            *limit(20, SELL, 99, 4)
        )
        book = OrderBook.restore(snapshot)


# -- contract edges


def test_invalid_quantities_and_prices_are_rejected_as_values():
    book = asks_book()
    cases = [
        (limit(10, BUY, 100, 0), INVALID_QTY),
        (limit(11, BUY, 0, 1), INVALID_PRICE),
        (limit(12, BUY, engine.MAX_PRICE + 1, 1), INVALID_PRICE),
        (NewOrder(13, 1, BUY, LIMIT, price=100, qty=1, quote_qty=100), INVALID_QTY),
        (NewOrder(14, 1, BUY, LIMIT_MAKER, price=-1, qty=1), INVALID_PRICE),
    ]
    for cmd, reason in cases:
        result = book.place(*cmd)
        assert result == PlaceResult(cmd.order_id, REJECTED, 0, 0, 0, [], [], reason)
    assert len(book) == 4


def test_programmer_errors_raise():
    book = asks_book()
    with pytest.raises(ValueError):
        book.place(*limit(1, SELL, 100, 1))  # id already resting
    for bad in (
        NewOrder(10, 1, "HOLD", LIMIT, price=1, qty=1),
        NewOrder(10, 1, BUY, "STOP", price=1, qty=1),
        NewOrder(10, 1, BUY, LIMIT, "GTD", price=1, qty=1),
        NewOrder(10, 1, BUY, LIMIT, price=1, qty=1, stp="DECREMENT"),
    ):
        with pytest.raises(ValueError):
            book.place(*bad)
    for args in ((10, 1, "HOLD", 1, 1), (10, 1, BUY, 0, 1), (10, 1, BUY, 1, 0)):
        with pytest.raises(ValueError):
            book.upsert(*args)
    book.check_invariants()


def test_results_are_frozen_and_equal_to_hand_built_ones():
    book = asks_book()
    result = book.place(*limit(10, BUY, 99, 1))
    assert result == PlaceResult(10, NEW, 0, 0, 1, [], [], None)
    assert type(result) is PlaceResult
    with pytest.raises(AttributeError):
        result.status = FILLED


def test_invariant_check_catches_a_crossed_book():
    book = OrderBook()
    book.upsert(1, 1, BUY, 101, 1)
    book.upsert(2, 2, SELL, 100, 1)
    with pytest.raises(AssertionError):
        book.check_invariants()


def test_an_id_cancelled_then_synced_back_is_live_once_in_its_place():
    book = book_with(*(limit(i, SELL, 100, 1) for i in range(1, 5)))
    book.cancel(2)  # leaves a tombstone in the middle of the queue
    book.upsert(2, 2, SELL, 100, 5)
    book.upsert(2, 2, SELL, 100, 6)  # updated in place, past its tombstone
    book.check_invariants()
    assert [o[0] for o in book.orders()] == [1, 2, 3, 4]
    assert book.depth(1) == ([], [(100, 9)])
    result = book.place(*limit(10, BUY, 100, 9))
    assert [(f[0], f[3]) for f in result.fills] == [(1, 1), (2, 6), (3, 1), (4, 1)]
    book.check_invariants()


def test_depth_is_the_same_whether_walked_or_sorted():
    book = OrderBook()
    for i in range(1, 401):
        book.place(*limit(i, BUY if i % 2 else SELL, 1000 + (-i if i % 2 else i), 1))
    for i in range(5, 400, 3):
        book.cancel(i)  # empties levels behind the top: stale heap keys
    book.check_invariants()
    bids, asks = book.depth(1000)
    assert len(bids) > 100 and len(asks) > 100
    for n in (1, 2, 3, 10, 30, 200):
        assert book.depth(n) == (bids[:n], asks[:n])
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
