"""The chaos run's invariant checks (tools/chaos/), on hand-made data: no
stack, no database. Each check must pass what is right and name what is wrong."""

from decimal import Decimal

import pytest

from tools.chaos.cache import holes
from tools.chaos.checks import (
    DbOrder,
    book_problems,
    cancels_check,
    duplicates_check,
    open_orders_in_units,
    placements_check,
)
from tools.chaos.client import ACCEPTED, REFUSED, UNKNOWN, Record, classify


def answered(kind, status, body, **fields) -> Record:
    record = Record(kind, "test", fields.pop("user", 1), 0.0, **fields)
    classify(record, status, body)
    return record


def place(status, body, cid="c1", symbol="BTCUSDT") -> Record:
    return answered("place", status, body, cid=cid, symbol=symbol)


def row(order_id, status="NEW", time=1, update_time=1, symbol="BTCUSDT") -> DbOrder:
    return DbOrder(symbol, order_id, status, time, update_time)


# --- what the client was told ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "outcome", "error"),
    [
        (200, b'{"orderId": 7, "status": "NEW"}', ACCEPTED, ""),
        (400, b'{"code": -2010, "msg": "Duplicate order sent."}', REFUSED, ""),
        (429, b'{"code": -1003, "msg": "Too much request weight used"}', REFUSED, ""),
        (503, b'{"code": -1001, "msg": "Internal error"}', UNKNOWN, "503 -1001"),
        (500, b"<html>Server Error</html>", UNKNOWN, "500 not JSON"),
        (502, b'{"detail": "bad gateway"}', UNKNOWN, "502 not Binance-shaped"),
        (400, b"Bad Request", UNKNOWN, "400 not JSON"),
    ],
)
def test_classify_says_what_the_client_was_told(status, body, outcome, error):
    record = place(status, body)
    assert (record.outcome, record.error) == (outcome, error)


def test_classify_keeps_the_order_id_and_the_refusal():
    assert place(200, b'{"orderId": 7, "status": "NEW"}').order_id == 7
    refused = place(400, b'{"code": -2010, "msg": "Duplicate order sent."}')
    assert (refused.code, refused.msg) == (-2010, "Duplicate order sent.")


# --- placements -----------------------------------------------------------------------


def test_placements_pass_when_the_database_agrees():
    records = [
        place(200, b'{"orderId": 7}', cid="a"),
        place(400, b'{"code": -2010, "msg": "no"}', cid="b"),
        place(503, b'{"code": -1001, "msg": "x"}', cid="c"),
    ]
    check = placements_check(records, {(1, "a"): [row(7)], (1, "c"): [row(8)]})
    assert check.passed
    assert check.figures == {"unknown after 503 -1001": "1 exist, 0 do not"}


def test_placements_name_a_lost_accepted_order_and_a_refused_one_that_exists():
    records = [
        place(200, b'{"orderId": 7}', cid="a"),
        place(200, b'{"orderId": 9}', cid="w"),
        place(400, b'{"code": -2010, "msg": "no"}', cid="b"),
    ]
    orders = {(1, "w"): [row(8)], (1, "b"): [row(3)]}
    problems = placements_check(records, orders).problems
    assert len(problems) == 3
    assert "a: told accepted" in problems[0] and "holds 0 order" in problems[0]
    assert "BTCUSDT#9" in problems[1] and "BTCUSDT#8" in problems[1]
    assert "b: told refused" in problems[2]


# --- duplicates -----------------------------------------------------------------------


def dup(status, body, pair=1, symbol="BTCUSDT") -> Record:
    return answered("dup", status, body, cid="d1", pair=pair, symbol=symbol)


ACCEPT = b'{"orderId": 5, "status": "NEW"}'
DUPLICATE = b'{"code": -2010, "msg": "Duplicate order sent."}'


def test_one_accepted_and_one_refused_as_duplicate_passes():
    records = [dup(200, ACCEPT), dup(400, DUPLICATE)]
    check = duplicates_check(records, {(1, "d1"): [row(5)]})
    assert check.passed
    assert check.figures == {"accepted + refused as duplicate": 1}


def test_two_open_orders_with_one_client_id_fail():
    records = [dup(200, ACCEPT), dup(200, b'{"orderId": 6}')]
    check = duplicates_check(records, {(1, "d1"): [row(5), row(6)]})
    assert any("both open" in p for p in check.problems)


def test_the_id_may_be_reused_once_the_first_order_closed():
    records = [dup(200, ACCEPT), dup(200, b'{"orderId": 6}')]
    orders = {(1, "d1"): [row(5, "CANCELED", 1, 2), row(6, "NEW", 3, 3)]}
    assert duplicates_check(records, orders).passed


def test_a_duplicate_of_nothing_and_an_unexplained_order_fail():
    records = [dup(400, DUPLICATE), dup(400, DUPLICATE, pair=2)]
    records[1].cid = "d2"
    orders = {(1, "d2"): [row(5)]}
    problems = duplicates_check(records, orders).problems
    assert any("duplicate of nothing" in p for p in problems)
    assert any(
        "1 order(s) in the database, 0 accepted, 0 unknown" in p for p in problems
    )


def test_order_ids_are_per_symbol_in_duplicate_pairs():
    records = [dup(200, ACCEPT, symbol="ETHBTC"), dup(400, DUPLICATE)]
    check = duplicates_check(records, {(1, "d1"): [row(5, symbol="BTCUSDT")]})
    assert any("ETHBTC#5" in p for p in check.problems)


# --- cancels --------------------------------------------------------------------------


def test_cancels_must_agree_with_the_order_status():
    told_cancelled = answered(
        "cancel", 200, b'{"orderId": 5, "status": "CANCELED"}', order_id=5, cid="x"
    )
    told_unknown = answered(
        "cancel", 400, b'{"code": -2011, "msg": "Unknown order sent."}', order_id=6
    )
    told_cancelled.symbol = told_unknown.symbol = "BTCUSDT"
    by_id = {("BTCUSDT", 5): row(5, "CANCELED"), ("BTCUSDT", 6): row(6, "FILLED")}
    assert cancels_check([told_cancelled, told_unknown], by_id, {}).passed
    by_id = {("BTCUSDT", 5): row(5, "FILLED"), ("BTCUSDT", 6): row(6, "NEW")}
    problems = cancels_check([told_cancelled, told_unknown], by_id, {}).problems
    assert len(problems) == 2


# --- books ----------------------------------------------------------------------------


def test_a_worker_book_equal_to_the_database_passes():
    orders = {(1, 10, "BUY", 500, 3), (2, 11, "SELL", 510, 1)}
    book = {"seq": 42, "stale": False, "orders": [list(o) for o in sorted(orders)]}
    assert book_problems(99, "BTCUSDT", book, 42, orders) == []


def test_a_worker_book_that_differs_is_named():
    orders = {(1, 10, "BUY", 500, 3), (2, 11, "SELL", 510, 1)}
    book = {"seq": 41, "stale": False, "orders": [[1, 10, "BUY", 500, 2]]}
    problems = book_problems(99, "BTCUSDT", book, 42, orders)
    assert problems[0] == "worker 99 BTCUSDT: at seq 41, database at 42"
    assert any("holds [1, 10, 'BUY', 500, 2]" in p for p in problems)
    assert sum("lacks" in p for p in problems) == 2
    stale = {"seq": -1, "stale": True, "orders": None}
    assert "stale" in book_problems(99, "BTCUSDT", stale, 42, orders)[0]


def test_open_orders_are_converted_to_ticks_and_lots():
    rows = [
        (
            "BTCUSDT",
            1,
            10,
            "BUY",
            Decimal("59999.99"),
            Decimal("0.0030"),
            Decimal("0.0010"),
        ),
        (
            "BTCUSDT",
            2,
            10,
            "SELL",
            Decimal("60000.01"),
            Decimal("0.0010"),
            Decimal("0.0010"),
        ),
    ]
    books = open_orders_in_units(
        rows, {"BTCUSDT": (Decimal("0.01"), Decimal("0.0001"))}
    )
    assert books == {"BTCUSDT": {(1, 10, "BUY", 5999999, 20)}}


# --- cached trades --------------------------------------------------------------------


def test_holes_in_a_recent_trades_list():
    assert holes([10, 9, 8]) == []
    assert holes([10, 9, 6, 5]) == [7, 8]
    assert holes([]) == []
