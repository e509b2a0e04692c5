"""Reads that take a prepared statement on PostgreSQL answer exactly as the ORM."""

import pytest
from django.db import connection

from accounts import selectors as account_selectors
from tests.factories import funded_user
from tests.trading.conftest import place
from trading.orders import books
from trading.orders import selectors as order_selectors
from trading.orders import services as order_services

pytestmark = pytest.mark.django_db(transaction=True)


def test_open_orders_are_the_users_open_ones_by_symbol_then_id(symbols):
    alice = funded_user(USDT="100000", BTC="1", ETH="10")
    bob = funded_user(USDT="100000", BTC="1")
    resting = [
        place(alice, "BUY", "0.01", "50000").order,
        place(alice, "SELL", "1", "3100", symbol="ETHUSDT").order,
        place(alice, "SELL", "0.01", "70000").order,
    ]
    cancelled = place(alice, "BUY", "0.01", "49000").order
    order_services.order_cancel(
        user_id=alice.id, symbol="BTCUSDT", order_id=cancelled.order_id
    )
    place(bob, "BUY", "0.01", "50000")
    # Bob's sell fills part of Alice's bid: it stays open, partially filled.
    place(bob, "SELL", "0.004", "50000")

    everything = order_selectors.orders_open(user_id=alice.id, symbol=None)
    assert [(o.symbol_id, o.order_id) for o in everything] == sorted(
        (o.symbol_id, o.order_id) for o in resting
    )
    on_btc = order_selectors.orders_open(user_id=alice.id, symbol="BTCUSDT")
    assert [o.order_id for o in on_btc] == sorted(
        o.order_id for o in resting if o.symbol_id == "BTCUSDT"
    )
    partial = next(o for o in on_btc if o.order_id == resting[0].order_id)
    assert partial.status == "PARTIALLY_FILLED"
    assert str(partial.executed_qty.normalize()) == "0.004"
    assert order_selectors.orders_open(user_id=alice.id, symbol="ETHBTC") == []

    for symbol in (None, "BTCUSDT", "ETHUSDT", "ETHBTC"):
        for user in (alice, bob):
            expected = order_selectors.orders_open_orm(user_id=user.id, symbol=symbol)
            got = order_selectors.orders_open(user_id=user.id, symbol=symbol)
            assert [tuple(o) for o in got] == [tuple(o) for o in expected]
            assert [o._fields for o in got[:1]] == [o._fields for o in expected[:1]]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the prepared path is PostgreSQL's"
)
def test_open_orders_take_the_prepared_statement_on_postgresql(symbols, monkeypatch):
    alice = funded_user(USDT="1000")
    place(alice, "BUY", "0.001", "50000")
    monkeypatch.setattr(order_selectors, "orders_open_orm", None)
    assert len(order_selectors.orders_open(user_id=alice.id, symbol="BTCUSDT")) == 1


def test_balances_are_every_asset_held_by_asset_with_locked_amounts(symbols):
    alice = funded_user(USDT="1000", BTC="0.5")
    bob = funded_user(ETH="2")
    place(alice, "BUY", "0.01", "50000")
    got = account_selectors.balances_of(alice.id)
    assert [row[0] for row in got] == ["BTC", "USDT"]
    assert got[1][1:] == (500, 500)
    for user in (alice, bob, funded_user()):
        assert account_selectors.balances_of(
            user.id
        ) == account_selectors.balances_of_orm(user.id)
    assert account_selectors.balances_of(funded_user().id) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_a_book_rebuild_reads_the_live_orders_through_their_index(symbols):
    """A process rebuilds a pair's book from its live orders (open, or list legs
    waiting) under the pair lock: through the index kept for it, never by
    reading the whole order history. With sequential scans priced out, the
    plan still scans the table only if no index can answer."""
    query = books._open_rows("BTCUSDT")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = query.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "order_live_by_symbol" in plan
    assert "Seq Scan" not in plan
